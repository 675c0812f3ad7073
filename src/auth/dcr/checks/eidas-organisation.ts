import { str } from '../claims.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/** ETSI EN 319 412-1 §5.1.4: `PSD` + country + `-` + NCA + `-` + authorisation number, e.g. PSDGB-FCA-123456. */
const PSD_IDENTIFIER = /^PSD([A-Z]{2})-([A-Z]{2,8})-(.+)$/;

/**
 * An eIDAS transport certificate (a QWAC) names its holder by organizationIdentifier: the NCA and the
 * authorisation number it granted. It must be the organisation the SSA names: the SSA's
 * `organisation_competent_authority_claims` (authority id, e.g. FCAGBR, and registration id), or, when the
 * SSA has none, its `org_id`.
 */
export const eidasOrganisation: DcrCheck = (context) => {
  const identity = need(context, 'identity');
  if (identity.profile !== 'qwac') return;
  const ssa = need(context, 'ssa');
  const orgIdentifier = identity.organizationIdentifier;
  const refuse = (why: string): never => {
    throw new DcrError(
      'unapproved_software_statement',
      `the eIDAS transport certificate's organizationIdentifier ${orgIdentifier ?? '(none)'} ${why}`,
    );
  };
  if (!orgIdentifier) return refuse('is missing');
  const claims = ssa['organisation_competent_authority_claims'];
  if (claims === undefined) {
    const orgId = str(ssa, 'org_id') ?? '';
    if (orgIdentifier !== orgId && !orgIdentifier.endsWith(`-${orgId}`)) {
      refuse(`does not name the software statement's organisation ${orgId}`);
    }
    return;
  }
  const authority = typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : {};
  const authorityId = str(authority, 'authority_id');
  const registrationId = str(authority, 'registration_id');
  const parsed = PSD_IDENTIFIER.exec(orgIdentifier);
  if (!parsed) return refuse('is not a PSD2 identifier (PSD<country>-<NCA>-<authorisation number>)');
  const [, , nca, number] = parsed;
  // Open Banking writes the authority as NCA + ISO alpha-3 country (FCAGBR for the FCA).
  const sameAuthority = authorityId !== undefined && new RegExp(`^${nca}[A-Z]{3}$`).test(authorityId);
  if (!sameAuthority || registrationId !== number) {
    refuse(
      `does not match the software statement's competent authority claims (${authorityId ?? '?'} ${registrationId ?? '?'})`,
    );
  }
};
