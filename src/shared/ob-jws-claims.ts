/**
 * The Open Banking claims of a detached message signature (Read/Write ≥ 3.1.4), carried in the JWS
 * protected header and listed in `crit`. jose signs and verifies them only when told it understands
 * them: pass `OB_CRITICAL` as the `crit` option on both sides.
 */
export const OB_IAT = 'http://openbanking.org.uk/iat';
export const OB_ISS = 'http://openbanking.org.uk/iss';
export const OB_TAN = 'http://openbanking.org.uk/tan';
export const OB_CLAIMS = [OB_IAT, OB_ISS, OB_TAN] as const;
export const OB_CRITICAL = { [OB_IAT]: true, [OB_ISS]: true, [OB_TAN]: true } as const;

/** The `http://openbanking.org.uk/tan` of the Open Banking Directory, the live ecosystem's trust anchor. */
export const OB_DIRECTORY_TRUST_ANCHOR = 'openbanking.org.uk';

/**
 * The `http://openbanking.org.uk/iss` of a participant whose signing key a directory in Open Banking's
 * model holds (the Open Banking Directory, `tan` `openbanking.org.uk`, and the sandbox's own directory):
 * a TPP signs as `<org id>/<software statement id>`, an ASPSP as its `<org id>` alone (Read/Write API
 * profile, Message Signing; what OB's conformance suite checks of an ASPSP's responses).
 */
export function tppSigningIssuer(orgId: string, softwareId: string): string {
  return `${orgId}/${softwareId}`;
}

/** The ASPSP form of `http://openbanking.org.uk/iss` (see tppSigningIssuer): its organisation id. */
export function aspspSigningIssuer(orgId: string): string {
  return orgId;
}
