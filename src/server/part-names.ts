/**
 * The parts of the platform, in mounting order, and what each serves. They are named here, apart from
 * their code, so that `obkit serve --help` lists them without loading any of it; `createParts` in
 * `parts.ts` builds exactly these.
 */
export const PARTS = [
  {
    name: 'bank',
    about: 'the model bank: customers, accounts, ledger, payment scheduler (seeded in the sandbox)',
  },
  {
    name: 'directory',
    about: 'the directory: organisations, software statements, certificates, JWKS, CRL, OCSP',
  },
  { name: 'jwkms', about: 'JWKms: signing and encryption with keys the directory holds for TPPs' },
  { name: 'auth', about: 'the FAPI authorization server: discovery, PAR, token, DCR, CIBA' },
  { name: 'consent', about: "the customer's pages: login with SCA, consent, dashboard, bank app" },
  {
    name: 'openbanking',
    about: 'the Read/Write APIs: accounts (AIS), payments (PIS, VRP), funds confirmation',
  },
  {
    name: 'operator',
    about: "the bank's staff's console on the operator listener: TPPs, consents, payments, audit log",
  },
  { name: 'portal', about: "the sandbox's developer portal at / (nothing outside the sandbox)" },
] as const;

export type PartName = (typeof PARTS)[number]['name'];

export const partNames: readonly PartName[] = PARTS.map((part) => part.name);

export class UnknownPartError extends Error {
  override name = 'UnknownPartError';
}

/** Throws naming the unknown ones, and the parts there are. */
export function checkPartNames(names: readonly string[]): void {
  const unknown = names.filter((name) => !(partNames as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new UnknownPartError(`unknown part "${unknown.join('", "')}"; parts: ${partNames.join(', ')}`);
  }
}
