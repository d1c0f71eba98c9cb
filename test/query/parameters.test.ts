import { expect } from 'chai';
import { RegistryFailure, type ErrorCode } from '../../registry/model/errors.js';
import { PARAMETER_TABLES, readParameters, type QueryParameters } from '../../registry/query/index.js';
import { APPROVED, DEPRECATED, list, q, slot } from './fixtures.js';

const PATIENT = '13116900216^^^&2.16.578.1.12.4.1.4.1&ISO';

function failureCodes(run: () => unknown): ErrorCode[] {
  try {
    run();
  } catch (e) {
    if (e instanceof RegistryFailure) return e.errors.map((x) => x.code);
    throw e;
  }
  expect.fail('expected a RegistryFailure');
}

const findDocuments = (...extra: ReturnType<typeof slot>[]): QueryParameters =>
  readParameters(PARAMETER_TABLES.FindDocuments, [
    slot('$XDSDocumentEntryPatientId', q(PATIENT)),
    slot('$XDSDocumentEntryStatus', list(APPROVED)),
    ...extra,
  ]);

describe('stored query parameters', () => {
  describe('values and types', () => {
    it('reads statuses as their short form, from the URN or the short form', () => {
      const p = readParameters(PARAMETER_TABLES.FindDocuments, [
        slot('$XDSDocumentEntryPatientId', q(PATIENT)),
        slot('$XDSDocumentEntryStatus', list(APPROVED, 'Deprecated')),
      ]);
      expect(p.statuses('$XDSDocumentEntryStatus')).to.deep.equal(['Approved', 'Deprecated']);
      expect(p.single('$XDSDocumentEntryPatientId')).to.equal(PATIENT);
    });

    it('pads times to 14 digits, quoted or not', () => {
      const p = findDocuments(slot('$XDSDocumentEntryCreationTimeFrom', '2004'), slot('$XDSDocumentEntryCreationTimeTo', "'200501011230'"));
      expect(p.single('$XDSDocumentEntryCreationTimeFrom')).to.equal('20040101000000');
      expect(p.single('$XDSDocumentEntryCreationTimeTo')).to.equal('20050101123000');
    });

    it('keeps each slot of an AND/OR parameter as its own OR-group', () => {
      const p = findDocuments(
        slot('$XDSDocumentEntryEventCodeList', "('a^^s1','b^^s1')", "('c^^s2')"),
        slot('$XDSDocumentEntryEventCodeList', "('d^^s3')"),
      );
      expect(p.andGroups('$XDSDocumentEntryEventCodeList')).to.deep.equal([['a^^s1', 'b^^s1', 'c^^s2'], ['d^^s3']]);
    });

    it('unions repeated slots of a multi-valued parameter without AND/OR semantics', () => {
      const p = findDocuments(slot('$XDSDocumentEntryClassCode', "('A00-1^^2.16.578.1.12.4.1.1.9602')"), slot('$XDSDocumentEntryClassCode', "('B00-1^^2.16.578.1.12.4.1.1.9602')"));
      expect(p.list('$XDSDocumentEntryClassCode')).to.deep.equal(['A00-1^^2.16.578.1.12.4.1.1.9602', 'B00-1^^2.16.578.1.12.4.1.1.9602']);
    });

    it('accepts a single-valued parameter written as a one-element list', () => {
      const p = readParameters(PARAMETER_TABLES.GetSubmissionSetAndContents, [slot('$XDSSubmissionSetUniqueId', "('1.2.3')")]);
      expect(p.single('$XDSSubmissionSetUniqueId')).to.equal('1.2.3');
    });

    it('ignores parameters the query does not define', () => {
      const p = findDocuments(slot('$XDSDocumentEntryPracticeSettingCodeScheme', "('whatever')"), slot('$MetadataLevel', '1'));
      expect(p.has('$XDSDocumentEntryPracticeSettingCodeScheme')).to.equal(false);
    });
  });

  describe('malformed values → XDSRegistryError', () => {
    const cases: [string, ReturnType<typeof slot>][] = [
      ['a code without scheme', slot('$XDSDocumentEntryClassCode', "('A00-1')")],
      ['a code with an empty scheme', slot('$XDSDocumentEntryClassCode', "('A00-1^^')")],
      ['a code with an empty code', slot('$XDSDocumentEntryClassCode', "('^^2.16.578.1.12.4.1.1.9602')")],
      ['an unquoted code', slot('$XDSDocumentEntryClassCode', '(A00-1^^2.16.578.1.12.4.1.1.9602)')],
      ['a time that is not a DTM', slot('$XDSDocumentEntryCreationTimeFrom', '2004133')],
      ['a time with a month 13', slot('$XDSDocumentEntryCreationTimeFrom', '200413')],
      ['a quoted non-numeric time', slot('$XDSDocumentEntryCreationTimeFrom', "'yesterday'")],
      ['an unquoted author', slot('$XDSDocumentEntryAuthorPerson', '%Hansen%')],
      ['an empty string', slot('$XDSDocumentEntryAuthorPerson', "''")],
      ['a slot without values', slot('$XDSDocumentEntryTypeCode')],
    ];
    for (const [what, bad] of cases) {
      it(what, () => expect(failureCodes(() => findDocuments(bad))).to.deep.equal(['XDSRegistryError']));
    }

    it('an unknown status', () => {
      expect(
        failureCodes(() =>
          readParameters(PARAMETER_TABLES.FindDocuments, [slot('$XDSDocumentEntryPatientId', q(PATIENT)), slot('$XDSDocumentEntryStatus', list('urn:oasis:names:tc:ebxml-regrep:StatusType:Gone'))]),
        ),
      ).to.deep.equal(['XDSRegistryError']);
    });

    it('reports every problem at once, each with its parameter as location', () => {
      try {
        findDocuments(slot('$XDSDocumentEntryClassCode', "('x')"), slot('$XDSDocumentEntryCreationTimeTo', 'abc'));
        expect.fail('expected a failure');
      } catch (e) {
        expect((e as RegistryFailure).errors.map((x) => x.location)).to.deep.equal(['$XDSDocumentEntryClassCode', '$XDSDocumentEntryCreationTimeTo']);
      }
    });
  });

  describe('presence and number', () => {
    it('a missing required parameter → XDSStoredQueryMissingParam', () => {
      expect(failureCodes(() => readParameters(PARAMETER_TABLES.FindDocuments, [slot('$XDSDocumentEntryStatus', list(APPROVED))]))).to.deep.equal([
        'XDSStoredQueryMissingParam',
      ]);
      expect(failureCodes(() => readParameters(PARAMETER_TABLES.FindDocuments, [slot('$XDSDocumentEntryPatientId', q(PATIENT))]))).to.deep.equal([
        'XDSStoredQueryMissingParam',
      ]);
    });

    it('two values for a single-valued parameter → XDSStoredQueryParamNumber', () => {
      expect(
        failureCodes(() =>
          readParameters(PARAMETER_TABLES.FindDocuments, [slot('$XDSDocumentEntryPatientId', list(PATIENT, 'x^^^&1.2&ISO')), slot('$XDSDocumentEntryStatus', list(APPROVED))]),
        ),
      ).to.deep.equal(['XDSStoredQueryParamNumber']);
    });

    it('a single-valued parameter in two slots → XDSStoredQueryParamNumber', () => {
      expect(
        failureCodes(() => findDocuments(slot('$XDSDocumentEntryCreationTimeFrom', '2004'), slot('$XDSDocumentEntryCreationTimeFrom', '2005'))),
      ).to.deep.equal(['XDSStoredQueryParamNumber']);
      expect(failureCodes(() => findDocuments(slot('$XDSDocumentEntryCreationTimeFrom', '2004', '2005')))).to.deep.equal(['XDSStoredQueryParamNumber']);
    });

    it('a multi-valued parameter takes many values', () => {
      const p = findDocuments(slot('$XDSDocumentEntryStatus', list(DEPRECATED)));
      expect(p.statuses('$XDSDocumentEntryStatus')).to.deep.equal(['Approved', 'Deprecated']);
    });
  });

  describe('every query: required parameters and either-or pairs', () => {
    const required: Record<keyof typeof PARAMETER_TABLES, string[]> = {
      FindDocuments: ['$XDSDocumentEntryPatientId', '$XDSDocumentEntryStatus'],
      FindDocumentsByReferenceId: ['$XDSDocumentEntryPatientId', '$XDSDocumentEntryStatus', '$XDSDocumentEntryReferenceIdList'],
      FindDocumentsForMultiplePatients: ['$XDSDocumentEntryStatus'],
      FindFoldersForMultiplePatients: ['$XDSFolderCodeList', '$XDSFolderStatus'],
      FindSubmissionSets: ['$XDSSubmissionSetPatientId', '$XDSSubmissionSetStatus'],
      FindFolders: ['$XDSFolderPatientId', '$XDSFolderStatus'],
      GetAll: ['$patientId', '$XDSDocumentEntryStatus', '$XDSSubmissionSetStatus', '$XDSFolderStatus'],
      GetDocuments: [],
      GetFolders: [],
      GetAssociations: ['$uuid'],
      GetDocumentsAndAssociations: [],
      GetSubmissionSets: ['$uuid'],
      GetSubmissionSetAndContents: [],
      GetFolderAndContents: [],
      GetFoldersForDocument: [],
      GetRelatedDocuments: ['$AssociationTypes'],
    };
    // GetDocuments and GetFolders also take the logicalID (XDS Metadata Update option).
    const pairs: Partial<Record<keyof typeof PARAMETER_TABLES, [string, string, ...string[]]>> = {
      GetDocuments: ['$XDSDocumentEntryEntryUUID', '$XDSDocumentEntryUniqueId', '$XDSDocumentEntryLogicalID'],
      GetFolders: ['$XDSFolderEntryUUID', '$XDSFolderUniqueId', '$XDSFolderLogicalID'],
      GetDocumentsAndAssociations: ['$XDSDocumentEntryEntryUUID', '$XDSDocumentEntryUniqueId'],
      GetSubmissionSetAndContents: ['$XDSSubmissionSetEntryUUID', '$XDSSubmissionSetUniqueId'],
      GetFolderAndContents: ['$XDSFolderEntryUUID', '$XDSFolderUniqueId'],
      GetFoldersForDocument: ['$XDSDocumentEntryEntryUUID', '$XDSDocumentEntryUniqueId'],
      GetRelatedDocuments: ['$XDSDocumentEntryEntryUUID', '$XDSDocumentEntryUniqueId'],
    };

    for (const [name, table] of Object.entries(PARAMETER_TABLES) as [keyof typeof PARAMETER_TABLES, (typeof PARAMETER_TABLES)['GetAll']][]) {
      it(`${name}: required ${JSON.stringify(required[name])}${pairs[name] ? `, exactly one of ${pairs[name]!.join(' / ')}` : ''}`, () => {
        const requiredNow = table.params.filter((p) => p.required && !(table.exactlyOne ?? []).flat().includes(p.name)).map((p) => p.name);
        expect(requiredNow).to.have.members(required[name]);
        expect(table.exactlyOne ?? []).to.deep.equal(pairs[name] ? [pairs[name]] : []);

        const valueFor = (param: string): string => {
          const spec = table.params.find((p) => p.name === param)!;
          if (spec.type === 'status') return list(APPROVED);
          return spec.type === 'code' ? list(`A00-1^^2.16.578.1.12.4.1.1.9602`) : q('urn:uuid:0e7b2a1c-4c8f-4a51-9a3e-2f1d7c6b5a49');
        };
        // A query that needs one of a group (ITI-51's codes) gets the group's first.
        const oneOfGroups = (table.atLeastOne ?? []).map((group) => group[0]!);
        const complete = [...required[name], ...(pairs[name] ? [pairs[name]![0]] : [])].map((p) => slot(p, valueFor(p)));
        const withGroups = [...complete, ...oneOfGroups.map((p) => slot(p, valueFor(p)))];
        expect(() => readParameters(table, withGroups)).not.to.throw();
        if (oneOfGroups.length > 0) expect(failureCodes(() => readParameters(table, complete))).to.deep.equal(['XDSStoredQueryMissingParam']);
        for (const omitted of complete) {
          expect(failureCodes(() => readParameters(table, withGroups.filter((s) => s !== omitted))), `without ${omitted.name}`).to.deep.equal([
            'XDSStoredQueryMissingParam',
          ]);
        }
        if (pairs[name]) {
          const both = [...withGroups, slot(pairs[name]![1], valueFor(pairs[name]![1]))];
          expect(failureCodes(() => readParameters(table, both))).to.deep.equal(['XDSStoredQueryParamNumber']);
        }
      });
    }
  });
});
