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
