/**
 * Tests the runner does not count, with the reason. Each reason states a fact about the test or
 * about the node; nothing is excluded because it fails.
 */
export interface Exclusion {
  readonly reason: string;
  /**
   * True when the runner still executes the test locally as a prerequisite (patient feed tests:
   * their only effect is to hand out a patient id, which the runner allocates itself).
   */
  readonly runsAsPrerequisite?: boolean;
  /**
   * Only these sections are left out (a defect confined to them): the test runs and counts by its
   * other sections, and names the reason.
   */
  readonly sections?: readonly string[];
}

const PATIENT_FEED =
  'Patient Identity Feed (ITI-8/ITI-44): the node has no PIX feed endpoint; the runner allocates the ' +
  'patient id itself in the assigning authority the node accepts and publishes it as this test\'s $patientid$ report';

export const EXCLUSIONS: Readonly<Record<string, Exclusion>> = {
  ...Object.fromEntries(
    ['RecPIF', '15817', '15817b', '15818', '15819', '15820', '15821', '15822', '15823', '15824', '15825', '15826', '15827', '15828']
      .map((id) => [id, { reason: PATIENT_FEED, runsAsPrerequisite: true }]),
  ),
  '11710': { reason: 'toolkit-internal: registers the tester\'s IP address with the NIST public registry' },
  '12329': { reason: 'toolkit-internal: allocates a patient id in the toolkit\'s own patient id service' },
  '12308': {
    reason:
      'plan defect: its only check beyond the status is <ReferenceDocument uid="$docuid$">../../testdata/12318/my_document.txt</ReferenceDocument>, ' +
      'but no step of 12308 defines $docuid$ (its UseIds define $docuid1$ and $docuid2$) and the testkit has no testdata/12318; ' +
      'the same retrieve through the initiating gateway (ITI-43 in, ITI-39 to the community) is checked with defined references by 15809 and 15810',
  },
  '30008': {
    reason:
      'plan defect: it contradicts 30004 and 30006 on the same metadata and its own readme ("these tests should fail"). ' +
      'remove_APND_assoc_only removes an APND association while both documents stay and expects Success (30004 expects ' +
      'XDSMetadataModelException for exactly that, and 30008 has the error code commented out); remove_orig_set removes the ' +
      'original while the XFRM_RPLC association to it stays and expects Success under the goal "Fail to remove the original ' +
      'document" (30006 expects ReferencesExistException for exactly that). The node follows 30004 and 30006',
  },
  '40031': {
    sections: ['class_code'],
    reason:
      'plan defect in section class_code: its update sets classCode 57016-8 (the original has REPORTS) and its assertion ' +
      'expects classCode SUMMARY, a code neither version carries. The same classCode change against the registry, ' +
      '40001/class_code, asserts 57016-8 and passes; the other 21 sections of 40031 run and count',
  },
};

export function exclusionFor(testId: string, extra?: Readonly<Record<string, Exclusion>>): Exclusion | undefined {
  if (extra?.[testId]) return extra[testId];
  if (EXCLUSIONS[testId]) return EXCLUSIONS[testId];
  if (/-Readme$/i.test(testId)) return { reason: 'toolkit-internal: a readme page, no test plan' };
  return undefined;
}
