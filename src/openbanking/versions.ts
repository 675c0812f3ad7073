import { expiryEnded } from '../consent/index.ts';

/**
 * The Read/Write API versions this bank serves, where each lives, and which consents each accepts.
 * One consent store, one ledger, one guard serve every version; a version differs only in its routes'
 * base paths, its wire mappings (ais/<version>/mapping.ts), its error body (errors.ts) and its status
 * code sets. Adding a version is adding an entry here and a mapping folder, never a copy of a handler.
 */
export const API_VERSIONS = ['v3.1.11', 'v4.0'] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];

/** The API families a version serves, each with its base path as the specification's `servers` give it. */
export interface VersionBases {
  aisp: string;
  cbpii: string;
  /** Payment initiation: every kind on v3.1.11; on v4.0 the kinds pis/index.ts mounts there. */
  pisp?: string;
  /** Event subscriptions and aggregated polling: the version's root, as the events file's `servers` say. */
  events?: string;
}

export const VERSION_BASES: Record<ApiVersion, VersionBases> = {
  // v3.1.x files all name the minor version in their servers (`/open-banking/v3.1/aisp`).
  'v3.1.11': {
    aisp: '/open-banking/v3.1/aisp',
    pisp: '/open-banking/v3.1/pisp',
    cbpii: '/open-banking/v3.1/cbpii',
    events: '/open-banking/v3.1',
  },
  'v4.0': {
    aisp: '/open-banking/v4.0/aisp',
    pisp: '/open-banking/v4.0/pisp',
    cbpii: '/open-banking/v4.0/cbpii',
    events: '/open-banking/v4.0',
  },
};

/**
 * The OpenAPI files (in specs/) that define each version's wire format, one per base path, and the VRP
 * files whose APIs the payment scope serves under the PIS base (pis/index.ts mounts VRP on every version;
 * v4.0's is the commercial VRP profile, which adds to the VRP file). Discovery and the API docs
 * (docs/catalogue.ts) read them from here.
 */
export const VERSION_SPECS: Record<
  ApiVersion,
  // One file per base path the version has (optional where the base is), and the VRP files.
  { [Base in keyof VersionBases]: string } & { vrp: readonly string[] }
> = {
  'v3.1.11': {
    aisp: 'ob-read-write/v3.1.11/account-info-openapi.json',
    cbpii: 'ob-read-write/v3.1.11/confirmation-funds-openapi.json',
    pisp: 'ob-read-write/v3.1.11/payment-initiation-openapi.json',
    events: 'ob-read-write/v3.1.11/events-openapi.json',
    vrp: ['ob-read-write/v3.1.11/vrp-openapi.json'],
  },
  'v4.0': {
    aisp: 'ob-read-write/v4.0/account-info-openapi.json',
    cbpii: 'ob-read-write/v4.0/confirmation-funds-openapi.json',
    pisp: 'ob-read-write/v4.0/payment-initiation-openapi.json',
    events: 'ob-read-write/v4.0/events-openapi.json',
    vrp: ['ob-read-write/v4.0/vrp-openapi.json', 'ob-cvrp/v4.0/cvrp-openapi.json'],
  },
};

/** Every base path served, whatever the version. */
export function allBasePaths(): string[] {
  return API_VERSIONS.flatMap((version) => Object.values(VERSION_BASES[version]) as string[]);
}

/** The version whose base path a request path (or URL with a query) is under; undefined outside the APIs. */
export function versionOfPath(url: string): ApiVersion | undefined {
  const path = url.split('?')[0] ?? '';
  return API_VERSIONS.find((version) =>
    (Object.values(VERSION_BASES[version]) as string[]).some(
      (base) => path === base || path.startsWith(`${base}/`),
    ),
  );
}

/** A version's numbers (`v3.1.11` → 3, 1, 11), read once per version string: asked on every data request. */
const versionNumbers = new Map<string, readonly number[]>();
function numbersOf(version: string): readonly number[] {
  let numbers = versionNumbers.get(version);
  if (!numbers) {
    numbers = version
      .replace(/^v/, '')
      .split('.')
      .map((part) => Number(part));
    // Consent versions come from stored intents: a handful of values, but never let it grow unbounded.
    if (versionNumbers.size < 1000) versionNumbers.set(version, numbers);
  }
  return numbers;
}

/** Orders versions: negative when `a` is older than `b`. */
function compareVersions(a: string, b: string): number {
  const left = numbersOf(a);
  const right = numbersOf(b);
  for (let i = 0; i < Math.max(left.length, right.length); i += 1) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/**
 * Which consents a version accepts — OB's version-compatibility rule for account-access and
 * funds-confirmation consents (Account and Transaction API Profile, "Version Compatibility"; the
 * Confirmation of Funds profile says the same of its consents):
 *  - "An ASPSP must allow a Consent to be accessed in a newer version", and "An AISP may use an Id for a
 *    Consent created in a previous version to retrieve Account Information resources in a newer version"
 *    (a token bound to it included);
 *  - "An AISP must not create a Consent on a newer version, and use it on a previous version", nor access
 *    a consent created in a newer version via an older one.
 * So a consent staged on v3.1.11 is usable on v3.1.11 and v4.0; one staged on v4.0 only on v4.0 (and
 * later). A consent with no recorded version predates versioning and is a v3.1.11 consent.
 */
export function consentUsableOn(consentVersion: string | undefined, requestVersion: ApiVersion): boolean {
  return compareVersions(consentVersion ?? 'v3.1.11', requestVersion) <= 0;
}

/**
 * A consent's status as a version writes it: v3.1.11 its words, v4.0 ISO 20022 consent status codes. An
 * account-access consent whose access the PSU withdrew at the bank (still Authorised in the store) is `CANC`
 * on v4.0 until re-authenticated ("Access Revocation", Account and Transaction API Profile v4.0), and keeps
 * its status on v3.1.11 (`Authorised`, the v3.1.11 profile's rule); a VRP consent keeps it on both (`AUTH`,
 * VRP Profile "Consent Revocation"). See `withdrawAccess` in src/consent/intents.ts.
 */
export function consentStatusOn(
  version: ApiVersion,
  consent: {
    status: string;
    expiresAt?: Date | undefined;
    kind?: string;
    accessWithdrawnAt?: Date | undefined;
  },
  now: Date,
): string {
  if (version === 'v3.1.11') return consent.status;
  if (accessWithdrawnReadsCancelled(version, consent)) return 'CANC';
  // v4.0 names a consent past its expiry (ExpirationDateTime; VRP's ValidToDateTime) EXPD, "The consent has
  // passed its expiry date" (Account Access Consents v4.0, GET status table; OB_Internal_CodeSet: "marked as
  // expired after expiry of validity date"), whether it was Authorised or still awaiting an authorisation it
  // can no longer be given: AWAU ("awaiting authorisation") would tell the TPP it may still be authorised.
  // v3.1.11 has no such status. Payment consents have no expiry here (their statuses have no EXPD).
  if (expiryEnded(consent, now)) return 'EXPD';
  return V4_CONSENT_STATUSES[consent.status] ?? consent.status;
}

/**
 * Whether `version` writes this consent `CANC` because the PSU withdrew its access at the bank, although the
 * store keeps it Authorised: v4.0 account access only (v3.1.11 and VRP keep the status).
 */
export function accessWithdrawnReadsCancelled(
  version: ApiVersion,
  consent: { status: string; kind?: string; accessWithdrawnAt?: Date | undefined },
): boolean {
  return (
    version !== 'v3.1.11' &&
    consent.status === 'Authorised' &&
    consent.accessWithdrawnAt !== undefined &&
    consent.kind === 'account-access'
  );
}

/** The stored consent statuses → v4.0's OBInternalConsentStatus codes (withdrawn = cancelled). */
const V4_CONSENT_STATUSES: Record<string, string> = {
  AwaitingAuthorisation: 'AWAU',
  Authorised: 'AUTH',
  Rejected: 'RJCT',
  Revoked: 'CANC',
};
