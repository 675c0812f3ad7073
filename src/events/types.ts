/**
 * The Open Banking event types the bank raises (Event Notification API profile), their `OBEventType1Code`
 * names (what a subscription's `EventTypes` may list), and the reason codes OB defines for them.
 */
export const EVENT_TYPES = {
  resourceUpdate: 'urn:uk:org:openbanking:events:resource-update',
  consentAuthorizationRevoked: 'urn:uk:org:openbanking:events:consent-authorization-revoked',
  linkedAccountUpdate: 'urn:uk:org:openbanking:events:account-access-consent-linked-account-update',
} as const;

export type EventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES];

/** OBEventType1Code → the event type URN it stands for. */
const CODES: Readonly<Record<string, EventType>> = {
  'UK.OBIE.Resource-Update': EVENT_TYPES.resourceUpdate,
  'UK.OBIE.Consent-Authorization-Revoked': EVENT_TYPES.consentAuthorizationRevoked,
  'UK.OBIE.Account-Access-Consent-Linked-Account-Update': EVENT_TYPES.linkedAccountUpdate,
};

const URNS = new Set<string>(Object.values(EVENT_TYPES));

/**
 * The event type a subscription names, as an OBEventType1Code (`UK.OBIE.Resource-Update`) or as the URN
 * the SET carries; undefined when it is neither (or a type this bank does not raise).
 */
export function eventTypeNamed(name: string): EventType | undefined {
  if (URNS.has(name)) return name as EventType;
  return CODES[name];
}

/** OBExternalEventAccountAccessConsentLinkedAccountUpdateReason1Code. */
export type LinkedAccountUpdateReason = 'UK.OBIE.AccountClosure' | 'UK.OBIE.CASS';
