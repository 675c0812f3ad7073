import { str } from '../claims.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/**
 * The organisation and software statement the SSA names are Active at the directory now: an SSA signed
 * before a suspension or revocation does not register (RFC 7591 §3.2.2 `unapproved_software_statement`,
 * the statement is not approved for use here).
 */
export const participantActive: DcrCheck = async (context) => {
  const participants = context.options.participantStatus;
  if (!participants) return;
  const ssa = need(context, 'ssa');
  const orgId = str(ssa, 'org_id') as string;
  const softwareId = str(ssa, 'software_id') as string;
  const verdict = await participants.check({ orgId, softwareId });
  if (!verdict.active) throw new DcrError('unapproved_software_statement', `refused: ${verdict.detail}`);
};
