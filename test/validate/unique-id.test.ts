/** DocumentEntry.uniqueId: its structure follows the document's format (ITI TF-3 4.2.3.2.26). */
import { expect } from 'chai';
import { documentUniqueIdProblem, MAX_DOCUMENT_UNIQUE_ID_BYTES } from '../../registry/validate/formats.js';

const DICOM = { mimeType: 'application/dicom', formatCodeScheme: '1.2.840.10008.2.6.1' };

describe('DocumentEntry.uniqueId formats', () => {
  it('accepts an OID, OID^extension and a UUID (NHN, Norwegian EPJ systems)', () => {
    for (const ok of [
      '2.16.578.1.12.4.1.7.1.1',
      '2.16.578.1.12.4.1.7.1.1^2023-0001',
      '1.2.3^abc_Æøå',
      '13fa8361-dd8f-43fd-a33c-93f3237306c3',
      '13FA8361-DD8F-43FD-A33C-93F3237306C3',
    ]) {
      expect(documentUniqueIdProblem(ok), ok).to.equal(undefined);
    }
  });

  it('refuses ids that are none of those forms', () => {
    for (const bad of [
      'Document01',
      '',
      'urn:uuid:13fa8361-dd8f-43fd-a33c-93f3237306c3',
      '13fa8361-dd8f-43fd-a33c-93f3237306c',
      '13fa8361dd8f43fda33c93f3237306c3',
      '1.2.03',
      '1.2.3^',
      '1.2.3^a^b',
    ]) {
      expect(documentUniqueIdProblem(bad), bad).to.be.a('string');
    }
  });

  it('refuses white space and control characters anywhere', () => {
    for (const bad of [' 1.2.3', '1.2.3 ', '1.2.3^a b', '1.2.3^a\tb', '1.2.3^a\u0000', '1.2.3^a\u007f', '13fa8361-dd8f-43fd-a33c-93f3237306c3\n']) {
      expect(documentUniqueIdProblem(bad), JSON.stringify(bad)).to.be.a('string');
    }
  });

  it('refuses more than 128 bytes, counting UTF-8 bytes, not characters', () => {
    const root = '1.2.3^';
    expect(documentUniqueIdProblem(root + 'x'.repeat(MAX_DOCUMENT_UNIQUE_ID_BYTES - root.length))).to.equal(undefined);
    expect(documentUniqueIdProblem(root + 'x'.repeat(MAX_DOCUMENT_UNIQUE_ID_BYTES - root.length + 1))).to.match(/longer than 128 bytes/);
    // 62 'ø' are 62 characters but 124 bytes: with the root that is over the limit.
    expect(documentUniqueIdProblem(root + 'ø'.repeat(62))).to.match(/longer than 128 bytes/);
  });

  it('a DICOM document needs a DICOM UID (an OID of at most 64 characters)', () => {
    expect(documentUniqueIdProblem('1.2.840.113619.2.55.3', DICOM)).to.equal(undefined);
    expect(documentUniqueIdProblem('13fa8361-dd8f-43fd-a33c-93f3237306c3', DICOM)).to.match(/DICOM UID/);
    expect(documentUniqueIdProblem('1.2.840.113619^x', { mimeType: 'application/dicom' })).to.match(/DICOM UID/);
    expect(documentUniqueIdProblem(`1.${'2'.repeat(63)}`, { formatCodeScheme: DICOM.formatCodeScheme })).to.match(/DICOM UID/);
  });
});
