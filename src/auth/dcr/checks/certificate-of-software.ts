import { certificateNamesSoftware, parseParticipantCertificate } from '../../../pki/index.ts';
import { str } from '../claims.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/**
 * The transport certificate was issued to the SSA's software: an OBWAC names the software (CN) and its
 * organisation (OU); a QWAC names the organisation in its organizationIdentifier.
 */
export const certificateOfSoftware: DcrCheck = (context) => {
  const ssa = need(context, 'ssa');
  const identity = parseParticipantCertificate(need(context, 'certificate'));
  context.identity = identity;
  const softwareId = str(ssa, 'software_id');
  const orgId = str(ssa, 'org_id');
  if (!certificateNamesSoftware(identity, { softwareId, orgId })) {
    throw new DcrError(
      'unapproved_software_statement',
      `the transport certificate (${identity.subjectDn}) was not issued to software ${softwareId} of organisation ${orgId}`,
    );
  }
};
