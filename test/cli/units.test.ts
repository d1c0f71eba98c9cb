/**
 * The CLI's small pieces that decide what is registered: the patient's CX from a bare number, the
 * document type from its bytes, codes and times as typed on the command line, the patient map.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCode, TABLES } from '../../connector/cli/codes.js';
import { maskConfig } from '../../connector/cli/mask.js';
import { sniffType } from '../../connector/cli/mime.js';
import { patientCx } from '../../connector/cli/patient.js';
import { readPatientMap } from '../../connector/cli/patient-map.js';
import { parseTime, showTime } from '../../connector/cli/time.js';
import { parseConfig } from '../../connector/config.js';
import { fixture } from '../../fixtures/index.js';
import { SAMPLE_PDF } from './helpers.js';

describe('koblingspunkt: the pieces', () => {
  it('a bare number becomes the CX of its kind: fødselsnummer, D-number, H-number', () => {
    expect(patientCx('13116900216')).to.equal('13116900216^^^&2.16.578.1.12.4.1.4.1&ISO');
    expect(patientCx(' 53116900216 ')).to.equal('53116900216^^^&2.16.578.1.12.4.1.4.2&ISO');
    expect(patientCx('13516900216')).to.equal('13516900216^^^&2.16.578.1.12.4.1.4.3&ISO');
    // Tenor's synthetic persons (month + 80) are fødselsnumre, for the registry to accept or not.
    expect(patientCx('06828399789')).to.equal('06828399789^^^&2.16.578.1.12.4.1.4.1&ISO');
    expect(patientCx('IHE123^^^&1.3.6.1.4.1.21367.2005.13.20.1000&ISO')).to.equal('IHE123^^^&1.3.6.1.4.1.21367.2005.13.20.1000&ISO');
    expect(() => patientCx('1311690021')).to.throw(/neither an 11-digit/);
    expect(() => patientCx('13116900216^^^&2.16.578.1.12.4.1.4.1')).to.throw(/assigning authority must be &oid&ISO/);
  });

  it('tells the type from the bytes first, then the name', () => {
    expect(sniffType(readFileSync(SAMPLE_PDF).subarray(0, 4096), 'scan.bin')).to.deep.equal({ mimeType: 'application/pdf', kind: 'pdf' });
    expect(sniffType(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), 'x')).to.deep.equal({ mimeType: 'image/png', kind: 'png' });
    expect(sniffType(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), 'x.pdf')).to.deep.equal({ mimeType: 'image/jpeg', kind: 'jpeg' });
    const cda = readFileSync(fixture('conformance', 'nhn-samples', 'CDA_ConsultationNote01.xml')).subarray(0, 4096);
    expect(sniffType(cda, 'notat.xml')).to.deep.equal({ mimeType: 'text/xml', kind: 'cda' });
    expect(sniffType(Buffer.from('<?xml version="1.0"?><a/>'), 'a')).to.deep.equal({ mimeType: 'text/xml', kind: 'xml' });
    expect(sniffType(Buffer.from('Journalnotat: kontroll.\n'), 'notat')).to.deep.equal({ mimeType: 'text/plain', kind: 'text' });
    expect(sniffType(Buffer.from([0, 1, 2, 3, 0xfe]), 'data.bin')).to.equal(undefined);
    expect(sniffType(Buffer.from([0, 1, 2, 3, 0xfe]), 'photo.PNG')).to.deep.equal({ mimeType: 'image/png', kind: 'png' });
  });

  it('codes: known ones by name, others with a display name, in the option’s code system unless named', () => {
    expect(parseCode('NORS', TABLES.confidentiality)).to.deep.equal({ code: 'NORS', scheme: '2.16.578.1.12.4.1.1.9603', displayName: { value: 'Sperret' } });
    expect(parseCode('K01-2^Kontrakt', TABLES.typeCode)).to.deep.equal({ code: 'K01-2', scheme: '2.16.578.1.12.4.1.1.9602', displayName: { value: 'Kontrakt' } });
    expect(parseCode('R^restricted^2.16.840.1.113883.5.25', TABLES.confidentiality).scheme).to.equal('2.16.840.1.113883.5.25');
    expect(() => parseCode('X', TABLES.classCode)).to.throw(/--class X is not a code this tool knows by name/);
  });

  it('times: ISO dates as people type them, or a DTM', () => {
    expect(parseTime('2026-11-20', '--from')).to.equal('20261120');
    expect(parseTime('2026-11-20T10:15', '--from')).to.equal('202611201015');
    expect(parseTime('2026-11-20T10:15:30Z', '--from')).to.equal('20261120101530');
    expect(parseTime('20261120101530', '--from')).to.equal('20261120101530');
    expect(() => parseTime('20.11.2026', '--from')).to.throw(/--from/);
    expect(showTime('20261120101530')).to.equal('2026-11-20 10:15:30');
    expect(showTime('20261120')).to.equal('2026-11-20');
  });

  it('the patient map: ; or , separated, a header, quotes, comments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kp-cli-map-'));
    try {
      const file = join(dir, 'map.csv');
      writeFileSync(file, '\uFEFFfil;pasient\r\n# kommentar\r\n"notat; ola.txt";12057900499\r\n\r\nepikrise.pdf ; 13116900216\r\n');
      expect([...readPatientMap(file).patients]).to.deep.equal([
        ['notat; ola.txt', '12057900499'],
        ['epikrise.pdf', '13116900216'],
      ]);
      writeFileSync(file, 'a.pdf,13116900216\na.pdf,12057900499\n');
      expect(() => readPatientMap(file)).to.throw(/line 2: a\.pdf is mapped to two patients/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('masks every secret the configuration can hold', () => {
    const config = parseConfig({
      gateway: { communities: [{ homeCommunityId: '2.16.578.1.1', queryUrl: 'https://hub.example/xca', tls: { passphrase: 'community-secret' } }] },
    });
    const masked = JSON.stringify(maskConfig(config));
    expect(masked).to.not.contain('community-secret');
    expect(masked).to.contain('"passphrase":"****"');
  });
});
