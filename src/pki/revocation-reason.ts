/** RFC 5280 §5.3.1 CRLReason, shared by CRL entries and OCSP RevokedInfo. */
export const revocationReasons = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;
export type RevocationReason = keyof typeof revocationReasons;

export function reasonName(code: number): RevocationReason | undefined {
  return (Object.keys(revocationReasons) as RevocationReason[]).find(
    (name) => revocationReasons[name] === code,
  );
}

/** What the CA knows about one certificate it issued. */
export type CertificateStatus =
  | { readonly status: 'good' }
  | { readonly status: 'revoked'; readonly revokedAt: Date; readonly reason?: RevocationReason }
  | { readonly status: 'unknown' };

/** Normalises a serial number to lower-case hex without leading zero bytes. */
export function normalizeSerial(serialNumber: string): string {
  const hex = serialNumber.toLowerCase().replace(/[^0-9a-f]/g, '');
  const trimmed = hex.replace(/^(00)+(?=[0-9a-f]{2})/, '');
  return trimmed.length % 2 === 1 ? `0${trimmed}` : trimmed;
}
