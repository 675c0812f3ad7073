import { and, desc, eq, gte, inArray, isNotNull, isNull, lt, not, or, sql, type SQL } from 'drizzle-orm';
import {
  endedByTime,
  endedByTimeRows,
  EXPIRY_ENDS,
  INTENT_STATUSES,
  type EndedByTime,
} from '../consent/index.ts';
import type { Queryable } from '../store/index.ts';
import { authModels } from '../store/schema/auth.ts';
import { bankCustomers } from '../store/schema/bank.ts';
import { consentIntents } from '../store/schema/consent.ts';
import {
  directoryCertificates,
  directoryOrganisations,
  directorySoftware,
} from '../store/schema/directory.ts';
import { bankPayments } from '../store/schema/openbanking.ts';
import { bankSuspensions, type BankSuspension } from './suspensions.ts';

/**
 * What the console reads. TPPs are the organisations the bank knows: those of its registered clients (the
 * `org_id` their SSA named) and, where the sandbox directory runs beside the bank, the directory's own.
 */
export interface RegisteredClient {
  clientId: string;
  name: string;
  orgId: string | undefined;
  softwareId: string | undefined;
  roles: string[];
}

export interface TppSummary {
  orgId: string;
  name: string;
  /** At the directory (`Active`, `Suspended`, `Revoked`), when the bank's directory is this one. */
  directoryStatus: string | undefined;
  suspension: BankSuspension | undefined;
  clients: RegisteredClient[];
}

export async function registeredClients(db: Queryable): Promise<RegisteredClient[]> {
  const rows = await db
    .select({ id: authModels.id, payload: authModels.payload })
    .from(authModels)
    .where(eq(authModels.model, 'Client'));
  return rows.map(({ id, payload }) => {
    const metadata = payload as Record<string, unknown>;
    const text = (key: string) => (typeof metadata[key] === 'string' ? (metadata[key] as string) : undefined);
    const scope = text('scope') ?? '';
    return {
      clientId: id,
      name: text('client_name') ?? id,
      orgId: text('org_id'),
      softwareId: text('software_id'),
      roles: Array.isArray(metadata['software_roles'])
        ? (metadata['software_roles'] as unknown[]).filter((role): role is string => typeof role === 'string')
        : scope.split(' ').filter(Boolean),
    };
  });
}

export async function listTpps(db: Queryable, search = ''): Promise<TppSummary[]> {
  const [organisations, clients, suspensions] = await Promise.all([
    db
      .select({
        id: directoryOrganisations.id,
        name: directoryOrganisations.name,
        status: directoryOrganisations.status,
      })
      .from(directoryOrganisations),
    registeredClients(db),
    bankSuspensions(db),
  ]);
  const byOrg = new Map<string, TppSummary>();
  for (const organisation of organisations) {
    byOrg.set(organisation.id, {
      orgId: organisation.id,
      name: organisation.name,
      directoryStatus: organisation.status,
      suspension: suspensions.get(organisation.id),
      clients: [],
    });
  }
  for (const client of clients) {
    if (!client.orgId) continue;
    const known = byOrg.get(client.orgId) ?? {
      orgId: client.orgId,
      name: client.name,
      directoryStatus: undefined,
      suspension: suspensions.get(client.orgId),
      clients: [],
    };
    known.clients.push(client);
    byOrg.set(client.orgId, known);
  }
  const wanted = search.trim().toLowerCase();
  return [...byOrg.values()]
    .filter(
      (tpp) =>
        !wanted ||
        tpp.orgId.toLowerCase().includes(wanted) ||
        tpp.name.toLowerCase().includes(wanted) ||
        tpp.clients.some(
          (client) => client.clientId.includes(wanted) || client.name.toLowerCase().includes(wanted),
        ),
    )
    .sort((a, b) => a.name.localeCompare(b.name));
}

export interface TppDetails extends TppSummary {
  software: {
    id: string;
    name: string;
    roles: string[];
    status: string;
    mode: string;
  }[];
  certificates: {
    kid: string;
    softwareId: string;
    type: string;
    serialNumber: string;
    notAfter: Date;
    status: string;
    revocationReason: string | null;
  }[];
}

export async function tppDetails(db: Queryable, orgId: string): Promise<TppDetails | undefined> {
  const summary = (await listTpps(db)).find((tpp) => tpp.orgId === orgId);
  if (!summary) return undefined;
  const [software, certificates] = await Promise.all([
    db.select().from(directorySoftware).where(eq(directorySoftware.orgId, orgId)),
    db.select().from(directoryCertificates).where(eq(directoryCertificates.orgId, orgId)),
  ]);
  return {
    ...summary,
    software: software.map((row) => ({
      id: row.id,
      name: row.clientName,
      roles: row.roles,
      status: row.status,
      mode: row.mode,
    })),
    certificates: certificates.map((row) => ({
      kid: row.kid,
      softwareId: row.softwareId,
      type: row.type,
      serialNumber: row.serialNumber,
      notAfter: row.notAfter,
      status: row.status,
      revocationReason: row.revocationReason,
    })),
  };
}

/**
 * A consent's state as the operator reads it, in the console's lists and status filter and in the
 * `obkit_consents` gauge: its stored status, except for the consents that are stored as live yet serve no
 * request and can never again.
 *
 * - `Expired`: time has ended it in its status (`endedByTime`, one rule with its SQL form `endedByTimeRows`):
 *   - its expiry (`expires_at`: account access and funds confirmation's ExpirationDateTime, VRP's
 *     ValidToDateTime) has passed by the clock while it was in a status its expiry ends (`EXPIRY_ENDS`):
 *     Authorised, it can no longer be used nor re-authenticated; still AwaitingAuthorisation (or
 *     AwaitingUpload), it can no longer be authorised (the consent app and `authorise` refuse it). The TPP
 *     reads its stored status on v3.1.11, `EXPD` on v4.0 (`consentStatusOn`);
 *   - or, a payment consent still awaiting authorisation (or its file), its authorisation window
 *     (`authorise_by`: `Data.Authorisation.CompletionDateTime`) closed before the customer authorised it:
 *     the authorization server and the consent app refuse it (`checkIntentAuthorisable`). The TPP reads its
 *     stored status on both versions, whose payment consent statuses have no expired one.
 *   Neither is stored: the consent keeps its status.
 * - `AccessWithdrawn`: the customer withdrew its access at the bank (`withdrawAccess`: account access, VRP).
 *   It keeps the status Authorised (v3.1.11; `CANC` on v4.0 account access) but holds no live token until the
 *   customer re-authenticates it, which clears the withdrawal.
 *
 * One state per consent: expired wins over withdrawn, since an expired consent cannot come back — the
 * withdrawal's "until re-authenticated" no longer holds (its page still says when access was withdrawn).
 * The customer's dashboard orders them so too; the TPP's v4.0 wire status does not (`consentStatusOn`: a
 * withdrawn account-access consent stays `CANC` past its expiry). Counted among the Authorised (or the
 * AwaitingAuthorisation), either would overstate the access TPPs hold (or may still be given).
 */
export const ACCESS_WITHDRAWN = 'AccessWithdrawn';
export const EXPIRED = 'Expired';

export const OPERATOR_CONSENT_STATES: readonly string[] = INTENT_STATUSES.flatMap((status) =>
  status === 'Authorised' ? [status, ACCESS_WITHDRAWN, EXPIRED] : [status],
);

const endedByExpiry = (status: string) => (EXPIRY_ENDS as readonly string[]).includes(status);

export function operatorConsentState(
  intent: {
    status: string;
    accessWithdrawnAt?: Date | null | undefined;
    expiresAt?: Date | null | undefined;
    authoriseBy?: Date | null | undefined;
  },
  now: Date,
): string {
  return stateWhenEnded(intent, endedByTime(intent, now));
}

/** `operatorConsentState` when what ended the consent by time (`endedByTime`) is already known. */
function stateWhenEnded(
  intent: { status: string; accessWithdrawnAt?: Date | null | undefined },
  ended: ReturnType<typeof endedByTime>,
): string {
  if (ended !== undefined) return EXPIRED;
  return intent.status === 'Authorised' && intent.accessWithdrawnAt != null
    ? ACCESS_WITHDRAWN
    : intent.status;
}

/**
 * The rows in operator state `state` at `now` (one of `OPERATOR_CONSENT_STATES`, else nothing matches):
 * `operatorConsentState` as a condition.
 */
function inOperatorConsentState(state: string, now: Date): SQL {
  const ended = endedByTimeRows(now);
  if (state === EXPIRED) return ended;
  const authorisedLive = and(eq(consentIntents.status, 'Authorised'), not(ended));
  if (state === ACCESS_WITHDRAWN) return and(authorisedLive, isNotNull(consentIntents.accessWithdrawnAt))!;
  if (state === 'Authorised') return and(authorisedLive, isNull(consentIntents.accessWithdrawnAt))!;
  if (endedByExpiry(state)) return and(eq(consentIntents.status, state), not(ended))!;
  return eq(consentIntents.status, state);
}

export interface ConsentSearch {
  /** One consent, by its ConsentId. */
  id?: string;
  /** A customer's username or id. */
  customer?: string;
  /** An organisation id, client id or TPP name (substring). */
  tpp?: string;
  kind?: string;
  /** An operator state (`OPERATOR_CONSENT_STATES`): a stored status, `AccessWithdrawn` or `Expired`. */
  status?: string;
  /** Created on or after (a date, `YYYY-MM-DD`). */
  from?: Date;
  /** Created before the end of this day. */
  to?: Date;
}

export interface ConsentRow {
  id: string;
  kind: string;
  /** The operator state (`operatorConsentState`). */
  status: string;
  /** The status stored, which the TPP reads on v3.1.11 (differs from `status` when expired or withdrawn). */
  storedStatus: string;
  /** When the customer withdrew the TPP's access at the bank, while it stays Authorised. */
  accessWithdrawnAt: Date | undefined;
  /** When it expires (or expired). */
  expiresAt: Date | undefined;
  /** What ended it, and when, when its state is `Expired` (`endedByTime`). */
  ended: EndedByTime | undefined;
  clientId: string;
  tppName: string;
  customer: string | undefined;
  createdAt: Date;
}

/** The consents `search` matches, newest first, in their operator state at `now` (the console's clock). */
export async function searchConsents(
  db: Queryable,
  search: ConsentSearch,
  now: Date,
  limit = 200,
): Promise<ConsentRow[]> {
  const clients = await registeredClients(db);
  const conditions: SQL[] = [];
  if (search.customer) {
    const wanted = search.customer.trim().toLowerCase();
    const customers = await db
      .select({ id: bankCustomers.id })
      .from(bankCustomers)
      .where(or(eq(bankCustomers.username, wanted), eq(bankCustomers.id, search.customer.trim())));
    conditions.push(
      inArray(
        consentIntents.customerId,
        customers.length > 0 ? customers.map((c) => c.id) : [search.customer.trim()],
      ),
    );
  }
  if (search.tpp) {
    const wanted = search.tpp.trim().toLowerCase();
    const ids = clients
      .filter(
        (client) =>
          client.clientId === search.tpp?.trim() ||
          client.orgId?.toLowerCase() === wanted ||
          client.name.toLowerCase().includes(wanted),
      )
      .map((client) => client.clientId);
    if (ids.length === 0) return [];
    conditions.push(inArray(consentIntents.clientId, ids));
  }
  if (search.id) conditions.push(eq(consentIntents.id, search.id));
  if (search.kind) conditions.push(eq(consentIntents.kind, search.kind));
  if (search.status) conditions.push(inOperatorConsentState(search.status, now));
  if (search.from) conditions.push(gte(consentIntents.createdAt, search.from));
  if (search.to) conditions.push(lt(consentIntents.createdAt, new Date(search.to.getTime() + 86_400_000)));
  const rows = await db
    .select({
      id: consentIntents.id,
      kind: consentIntents.kind,
      status: consentIntents.status,
      accessWithdrawnAt: consentIntents.accessWithdrawnAt,
      expiresAt: consentIntents.expiresAt,
      authoriseBy: consentIntents.authoriseBy,
      clientId: consentIntents.clientId,
      customer: bankCustomers.username,
      createdAt: consentIntents.createdAt,
    })
    .from(consentIntents)
    .leftJoin(bankCustomers, eq(bankCustomers.id, consentIntents.customerId))
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(desc(consentIntents.createdAt))
    .limit(limit);
  const names = new Map(clients.map((client) => [client.clientId, client.name]));
  return rows.map(({ authoriseBy, ...row }) => {
    const ended = endedByTime({ ...row, authoriseBy }, now);
    return {
      ...row,
      status: stateWhenEnded(row, ended),
      storedStatus: row.status,
      accessWithdrawnAt: row.accessWithdrawnAt ?? undefined,
      expiresAt: row.expiresAt ?? undefined,
      ended,
      customer: row.customer ?? undefined,
      tppName: names.get(row.clientId) ?? row.clientId,
    };
  });
}

export interface PaymentSearch {
  status?: string;
  tpp?: string;
  customer?: string;
  from?: Date;
  to?: Date;
}

export async function searchPayments(db: Queryable, search: PaymentSearch, limit = 200) {
  const clients = await registeredClients(db);
  const conditions: SQL[] = [];
  if (search.status) conditions.push(eq(bankPayments.status, search.status));
  if (search.tpp) {
    const wanted = search.tpp.trim().toLowerCase();
    const ids = clients
      .filter(
        (c) =>
          c.clientId === search.tpp?.trim() ||
          c.orgId?.toLowerCase() === wanted ||
          c.name.toLowerCase().includes(wanted),
      )
      .map((c) => c.clientId);
    if (ids.length === 0) return [];
    conditions.push(inArray(bankPayments.clientId, ids));
  }
  if (search.customer) {
    const wanted = search.customer.trim().toLowerCase();
    conditions.push(
      sql`${bankPayments.customerId} in (select id from bank_customers where username = ${wanted} or id = ${search.customer.trim()})`,
    );
  }
  if (search.from) conditions.push(gte(bankPayments.createdAt, search.from));
  if (search.to) conditions.push(lt(bankPayments.createdAt, new Date(search.to.getTime() + 86_400_000)));
  const rows = await db
    .select({
      id: bankPayments.id,
      kind: bankPayments.kind,
      consentId: bankPayments.consentId,
      clientId: bankPayments.clientId,
      amountMinor: bankPayments.amountMinor,
      currency: bankPayments.currency,
      status: bankPayments.status,
      reason: bankPayments.reason,
      createdAt: bankPayments.createdAt,
    })
    .from(bankPayments)
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(desc(bankPayments.createdAt))
    .limit(limit);
  const names = new Map(clients.map((client) => [client.clientId, client.name]));
  return rows.map((row) => ({ ...row, tppName: names.get(row.clientId) ?? row.clientId }));
}
