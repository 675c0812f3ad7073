/**
 * The kinds of intent (OB "consent" resources), their id prefixes, the OAuth scope each one is authorised
 * under, and the statuses the OB specifications give each kind.
 */
export const INTENT_KINDS = [
  'account-access',
  'domestic-payment',
  'domestic-scheduled-payment',
  'domestic-standing-order',
  'international-payment',
  'international-scheduled-payment',
  'international-standing-order',
  'file-payment',
  'funds-confirmation',
  'domestic-vrp',
] as const;
export type IntentKind = (typeof INTENT_KINDS)[number];

export const INTENT_STATUSES = [
  'AwaitingUpload',
  'AwaitingAuthorisation',
  'Authorised',
  'Rejected',
  'Consumed',
  'Revoked',
] as const;
export type IntentStatus = (typeof INTENT_STATUSES)[number];

/** The resource scopes of Open Banking; `openid` is not one of them. */
export type ResourceScope = 'accounts' | 'payments' | 'fundsconfirmations';

interface KindInfo {
  prefix: string;
  scope: ResourceScope;
  /** What the PSU approves, in a few words (page titles, dashboard). */
  label: string;
  initialStatus: IntentStatus;
  /** Whether the OB API lets the TPP or PSU revoke it (payment consents end by being consumed instead). */
  revocable: boolean;
  /** Whether it ends by being consumed (a single payment, a standing order set up, a file executed). */
  consumable: boolean;
  /** How many accounts the PSU may select: one debtor account, or any number. */
  accounts: 'one' | 'many';
  /**
   * Whether the PSU may re-authenticate it once Authorised (a new authorization request naming the same
   * ConsentId, src/consent/authorisable.ts): the long-lived consents whose profiles say so — account access
   * ("Consent Re-authentication", Account and Transaction API Profile v3.1.11 and v4.0) and VRP (VRP Profile
   * v4.0, "Consent Revocation"). Never a single-use payment consent; funds confirmation is left to the bank
   * by its profile, and this bank does not offer it.
   */
  reauthenticatable: boolean;
}

export const KIND_INFO: Readonly<Record<IntentKind, KindInfo>> = {
  'account-access': {
    prefix: 'aac',
    scope: 'accounts',
    label: 'access to account information',
    initialStatus: 'AwaitingAuthorisation',
    revocable: true,
    consumable: false,
    accounts: 'many',
    reauthenticatable: true,
  },
  'domestic-payment': {
    prefix: 'pdc',
    scope: 'payments',
    label: 'a payment',
    initialStatus: 'AwaitingAuthorisation',
    revocable: false,
    consumable: true,
    accounts: 'one',
    reauthenticatable: false,
  },
  'domestic-scheduled-payment': {
    prefix: 'pdsc',
    scope: 'payments',
    label: 'a scheduled payment',
    initialStatus: 'AwaitingAuthorisation',
    revocable: false,
    consumable: true,
    accounts: 'one',
    reauthenticatable: false,
  },
  'domestic-standing-order': {
    prefix: 'pdsoc',
    scope: 'payments',
    label: 'a standing order',
    initialStatus: 'AwaitingAuthorisation',
    revocable: false,
    consumable: true,
    accounts: 'one',
    reauthenticatable: false,
  },
  'international-payment': {
    prefix: 'pic',
    scope: 'payments',
    label: 'an international payment',
    initialStatus: 'AwaitingAuthorisation',
    revocable: false,
    consumable: true,
    accounts: 'one',
    reauthenticatable: false,
  },
  'international-scheduled-payment': {
    prefix: 'pisc',
    scope: 'payments',
    label: 'a scheduled international payment',
    initialStatus: 'AwaitingAuthorisation',
    revocable: false,
    consumable: true,
    accounts: 'one',
    reauthenticatable: false,
  },
  'international-standing-order': {
    prefix: 'pisoc',
    scope: 'payments',
    label: 'an international standing order',
    initialStatus: 'AwaitingAuthorisation',
    revocable: false,
    consumable: true,
    accounts: 'one',
    reauthenticatable: false,
  },
  'file-payment': {
    prefix: 'pfc',
    scope: 'payments',
    label: 'a bulk payment file',
    initialStatus: 'AwaitingUpload',
    revocable: false,
    consumable: true,
    accounts: 'one',
    reauthenticatable: false,
  },
  'funds-confirmation': {
    prefix: 'fcc',
    scope: 'fundsconfirmations',
    label: 'confirmation of available funds',
    initialStatus: 'AwaitingAuthorisation',
    revocable: true,
    consumable: false,
    accounts: 'one',
    reauthenticatable: false,
  },
  'domestic-vrp': {
    prefix: 'dvrp',
    scope: 'payments',
    label: 'variable recurring payments',
    initialStatus: 'AwaitingAuthorisation',
    revocable: true,
    consumable: false,
    accounts: 'one',
    reauthenticatable: true,
  },
};

export function isIntentKind(value: unknown): value is IntentKind {
  return typeof value === 'string' && (INTENT_KINDS as readonly string[]).includes(value);
}

export function isIntentStatus(value: unknown): value is IntentStatus {
  return typeof value === 'string' && (INTENT_STATUSES as readonly string[]).includes(value);
}

/** The kind an intent id names by its prefix, or undefined when it is not one of ours. */
export function kindOfIntentId(id: string): IntentKind | undefined {
  const dash = id.indexOf('-');
  if (dash < 1) return undefined;
  const prefix = id.slice(0, dash);
  return INTENT_KINDS.find((kind) => KIND_INFO[kind].prefix === prefix);
}

export const RESOURCE_SCOPES: readonly ResourceScope[] = ['accounts', 'payments', 'fundsconfirmations'];
