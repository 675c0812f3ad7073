import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  accountsWithVersionsReader,
  balancesOf,
  getCustomerParty,
  getStatement,
  listAccountParties,
  listAccountProducts,
  listBeneficiaries,
  listDirectDebits,
  listOffers,
  listScheduledPayments,
  listStandingOrders,
  listStatements,
  listTransactions,
  renderStatementPdf,
  type Statement,
  type TransactionPage,
} from '../../bank/index.ts';
import type { ConsentContext, Intent } from '../../consent/index.ts';
import type { Clock } from '../../shared/clock.ts';
import { coalescedReads } from '../../shared/coalesced-reads.ts';
import { thenOrNow, type MaybePromise } from '../../shared/maybe-promise.ts';
import { assertCheckedUnder, withDeferredChangeVersion } from '../../shared/deferred-change-version.ts';
import { ObError } from '../errors.ts';
import { guard, guarded, guardProfiles, type GuardDependencies } from '../guard/index.ts';
import {
  assertPageExists,
  PAGE_SIZE,
  pageLinks,
  pageOf,
  requestedPage,
  totalPagesOf,
} from '../http/pagination.ts';
import {
  intersectWindows,
  parseQueryDateTime,
  singleQueryValue,
  type TimeWindow,
} from '../http/query-dates.ts';
import { resourceNotFound } from '../http/owned-resources.ts';
import { obDateTime, selfUrl } from '../http/wire.ts';
import type { ApiVersion } from '../versions.ts';
import type { ConsentUsage } from './consent-usage.ts';
import { assertConsentVersion } from '../http/consent-version.ts';
import * as v3 from './v3.1.11/mapping.ts';
import { AIS_WIRE } from './wire-mappings.ts';
import { serialisedAnswerCache } from './serialised-answers.ts';
import { readsUntilNextWrite, type WriteCount } from '../../shared/reads-until-next-write.ts';
import { readDerivations } from './read-derivations.ts';

/**
 * Account Information, every version (the version's wire mapping shapes the objects): every data endpoint of the specification, per account and in bulk (bulk =
 * across the accounts the PSU selected for the consent). The guard has already established the mTLS
 * client, the bound PSU token, the live consent, that it grants at least one permission the endpoint
 * answers with, and that an `:AccountId` is one the PSU selected. Here: the consent's permissions shape
 * every object (mapping.ts), its `TransactionFromDateTime`/`ToDateTime` bound every transaction and
 * statement, the query's date filters narrow further, and lists are paged.
 */
export interface AccountInformationContext {
  db: ConsentContext['db'];
  clock: Clock;
  guard: GuardDependencies;
  /** e.g. `https://bank.example/open-banking/v3.1/aisp`: the origin of `Links`. */
  publicBaseUrl: string;
  usage: ConsentUsage;
  /** The API version these routes serve (v3.1.11 unless said): its wire mapping, which consents it accepts. */
  version?: ApiVersion;
  /** The embedded database's write count and read-only statements (`Store['embedded']`). */
  embedded?: EmbeddedDatabase | undefined;
  /**
   * The store's change version as this instance has heard it (PostgreSQL): while it is up to date, an
   * `/accounts` answer kept under it is sent without a statement.
   */
  changeVersion?: HeardChangeVersion | undefined;
}

/**
 * The store's change version as this instance knows it (src/server/change-version.ts' `ChangeVersion`, as
 * the Read/Write APIs see it): the highest version heard, and whether that counts every change announced
 * so far (a cache lease held: what is kept under it may be answered without reading the store).
 */
export interface HeardChangeVersion {
  current(): number;
  upToDate(): boolean;
}

/** `Store['embedded']`, as this part sees it: the write count, and a database for read-only statements. */
export type EmbeddedDatabase = WriteCount & { readonly db: ConsentContext['db'] };

/** Which permissions let a TPP call each family of endpoints (any one of them suffices). */
export const ENDPOINT_PERMISSIONS = {
  accounts: ['ReadAccountsBasic', 'ReadAccountsDetail'],
  balances: ['ReadBalances'],
  transactions: ['ReadTransactionsBasic', 'ReadTransactionsDetail'],
  beneficiaries: ['ReadBeneficiariesBasic', 'ReadBeneficiariesDetail'],
  directDebits: ['ReadDirectDebits'],
  standingOrders: ['ReadStandingOrdersBasic', 'ReadStandingOrdersDetail'],
  scheduledPayments: ['ReadScheduledPaymentsBasic', 'ReadScheduledPaymentsDetail'],
  statements: ['ReadStatementsBasic', 'ReadStatementsDetail'],
  statementFile: ['ReadStatementsDetail'],
  products: ['ReadProducts'],
  offers: ['ReadOffers'],
  party: ['ReadParty'],
  partyPsu: ['ReadPartyPSU'],
} as const satisfies Record<string, readonly v3.AisPermission[]>;

interface Call {
  request: FastifyRequest;
  reply: FastifyReply;
  intent: Intent;
  permissions: ReadonlySet<string>;
  /** The `:AccountId` of a per-account endpoint (already checked against the consent). */
  accountId: string | undefined;
  /** The accounts this call covers: the one in the path, or all the PSU selected (bulk). */
  accountIds: readonly string[];
  self: string;
  /** What this read derives from its consent and URL alone, kept for the next read of them. */
  derived: Derived;
}

/**
 * What a read derives from its consent and its URL alone (read-derivations.ts): made on the first read of
 * a URL under a consent, the handler's own parts (`accountsKey`, `booked`) on its first use, and kept
 * for the next read of the same URL under the same consent.
 */
interface Derived {
  readonly self: string;
  readonly accountIds: readonly string[];
  /** `/accounts`, `/accounts/{AccountId}`: the answer's cache key. */
  accountsKey?: string;
  /** `/transactions`, `/accounts/{AccountId}/transactions`: the booking-date window, paging and key. */
  booked?: TransactionsShape;
}

/** What a transactions page depends on beyond the ledger, as one read of it asks for it. */
interface TransactionsShape {
  /** The consent's window narrowed by the query's, `undefined` when nothing is visible. */
  window: TimeWindow | undefined;
  access: v3.TransactionAccess;
  page: number;
  /** The page's cache key (none when nothing is visible: the empty page is not kept). */
  key: string | undefined;
}

type Params = { AccountId?: string; StatementId?: string };

/**
 * The consent's permissions as a set, made once per list: the guard's consent cache gives the same intent,
 * so the same list, to every request under it until it changes.
 */
const permissionSets = new WeakMap<readonly string[], ReadonlySet<string>>();
function permissionSet(permissions: readonly string[]): ReadonlySet<string> {
  let set = permissionSets.get(permissions);
  if (!set) {
    set = new Set(permissions);
    permissionSets.set(permissions, set);
  }
  return set;
}

/**
 * The JSON of a list the guard's consent cache hands every request under a consent (its permissions, its
 * accounts: the same array until the consent changes), made once per list: an answer's cache key is built
 * from it on every read.
 */
const listJsons = new WeakMap<readonly string[], string>();
function jsonOfList(list: readonly string[]): string {
  let json = listJsons.get(list);
  if (json === undefined) {
    json = JSON.stringify(list);
    listJsons.set(list, json);
  }
  return json;
}

/** The consent's transaction window; `undefined` (nothing visible) when a stored bound cannot be read. */
function consentWindow(intent: Intent): TimeWindow | undefined {
  const window: TimeWindow = {};
  for (const [field, key] of [
    ['TransactionFromDateTime', 'from'],
    ['TransactionToDateTime', 'to'],
  ] as const) {
    const value = intent.data[field];
    if (value === undefined || value === null) continue;
    // An ISODateTime carries its offset; one without is read as UTC (never as this server's local time).
    const text =
      typeof value === 'string' && value.includes('T') && !/(Z|[+-]\d{2}:?\d{2})$/i.test(value)
        ? `${value}Z`
        : value;
    const time = typeof text === 'string' ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(time)) return undefined;
    window[key] = new Date(time);
  }
  return window;
}

/** The query's date filters, e.g. `fromBookingDateTime`/`toBookingDateTime`. */
function queryWindow(request: FastifyRequest, fromName: string, toName: string): TimeWindow {
  const from = parseQueryDateTime(singleQueryValue(request.query, fromName), fromName);
  const to = parseQueryDateTime(singleQueryValue(request.query, toName), toName);
  if (from && to && from > to) {
    throw ObError.single(400, 'UK.OBIE.Field.InvalidDate', `${fromName} is after ${toName}`, fromName);
  }
  return { ...(from ? { from } : {}), ...(to ? { to } : {}) };
}

function narrow(...windows: (TimeWindow | undefined)[]): TimeWindow | undefined {
  let result: TimeWindow | undefined = {};
  for (const window of windows) {
    if (!result || !window) return undefined;
    result = intersectWindows(result, window);
  }
  return result;
}

function overlaps(statement: Statement, window: TimeWindow | undefined): boolean {
  if (!window) return false;
  return (!window.from || statement.endAt >= window.from) && (!window.to || statement.startAt <= window.to);
}

/** Whether the Accept header asks for a PDF ahead of (or without) JSON. */
export function prefersPdf(accept: string | undefined): boolean {
  if (!accept) return false;
  const types = accept
    .split(',')
    .map((part) => {
      const [type = '', ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { type: type.trim(), q: q ? Number(q.slice(2)) : 1 };
    })
    .filter((t) => t.q > 0 && !Number.isNaN(t.q));
  const weight = (wanted: string[]) =>
    Math.max(0, ...types.filter((t) => wanted.includes(t.type)).map((t) => t.q));
  const pdf = weight(['application/pdf']);
  return pdf > 0 && pdf > weight(['application/json', 'application/*', '*/*']);
}

const EMPTY_PAGE = (page: number): TransactionPage => ({
  items: [],
  total: 0,
  pageNumber: page,
  pageSize: PAGE_SIZE,
  totalPages: 1,
  firstBookedAt: null,
  lastBookedAt: null,
});

export async function accountInformation(
  scope: FastifyInstance,
  context: AccountInformationContext,
): Promise<void> {
  const { db, clock, usage } = context;
  const version = context.version ?? 'v3.1.11';
  const wire = AIS_WIRE[version];
  // This version's answers (its mapping shapes them), each kept under the accounts' row versions (and
  // `/accounts`' under the change version too: `accounts` below).
  const pages = serialisedAnswerCache();
  const accountAnswers = serialisedAnswerCache();
  // What each read derives from its consent and URL (this scope's base URL: `Links.Self`), made once.
  const derivations = readDerivations<Intent, Derived>();
  // The first statement of the hottest reads, with the change version in it. On PostgreSQL shared by
  // requests arriving together (src/shared/coalesced-reads.ts), one under way at a time: these reads are
  // bound by the server's own CPU per request, which a second statement under way only adds to
  // (bench/README.md, session 9). On the embedded database, where every write passes through this process,
  // answered again without a statement until the next write (the guard's checks, and the clock, are
  // applied to every request as before: the answer holds neither).
  const hotRead = <R>(
    read: (db: ConsentContext['db']) => (ids: readonly string[]) => Promise<R>,
  ): ((ids: readonly string[]) => MaybePromise<R>) => {
    const { embedded } = context;
    return embedded ? readsUntilNextWrite(embedded, read(embedded.db)) : coalescedReads(read(db));
  };
  // One statement for `/accounts` and the transactions reads (so they share statements in flight): the
  // accounts' row versions, which are their ledger versions too, and the rows changed since last read.
  const readAccounts = hotRead(accountsWithVersionsReader);

  /**
   * A GET route behind the guard. `foldsChangeVersion`: its handler reads the store's change version in its
   * own statement (`assertCheckedUnder`) rather than the surface up front: one round trip fewer on
   * PostgreSQL; when the version advanced, the request is checked again and the handler runs again.
   */
  function get(
    path: string,
    permissions: readonly string[],
    handler: (call: Call) => MaybePromise<unknown>,
    options: { foldsChangeVersion?: boolean } = {},
  ): void {
    const preHandler = guard(guardProfiles.accountData(permissions), context.guard);
    scope.get<{ Params: Params }>(
      path,
      {
        preHandler,
        ...(options.foldsChangeVersion ? { config: { changeVersion: 'read by the handler' } } : {}),
      },
      // Not `async`: an answer at hand (`accounts` on an embedded read answered again) is sent in this tick.
      (request, reply) => {
        const answer = () => {
          const { intent } = guarded(request);
          if (!intent) throw new Error('account data endpoint reached without a consent');
          assertConsentVersion(intent, version, 'data');
          const accountId = request.params.AccountId;
          const derived = derivations.of(intent, request.url, () => ({
            self: selfUrl(request, context.publicBaseUrl),
            accountIds: accountId !== undefined ? [accountId] : intent.accountIds,
          }));
          return handler({
            request,
            reply,
            intent,
            permissions: permissionSet(intent.permissions),
            accountId,
            accountIds: derived.accountIds,
            self: derived.self,
            derived,
          });
        };
        const body = withDeferredChangeVersion(request, answer, () => preHandler.check(request));
        return thenOrNow(body, (sent) => {
          // The intent the answer was made under (the last check's, when the request was checked again).
          const { intent } = guarded(request);
          if (intent) usage.touch(intent.id, request.log);
          return sent;
        });
      },
    );
  }

  /** A whole list, paged in memory (lists that are small per account). */
  function listBody<T>(call: Call, key: string, items: readonly T[]) {
    const page = requestedPage(call.request);
    return {
      Data: { [key]: pageOf(items, page) },
      ...pageLinks(call.self, page, totalPagesOf(items.length)),
    };
  }

  /** An answer serialised already (fastify sends a string as it is, given its type). */
  function sendJson(call: Call, json: string): string {
    call.reply.type('application/json; charset=utf-8');
    return json;
  }

  function single(call: Call, data: Record<string, unknown>) {
    return { Data: data, Links: { Self: call.self }, Meta: { TotalPages: 1 } };
  }

  /**
   * What a transactions page depends on beyond the ledger: the accounts, the window, the consent's
   * permissions and the request itself (path, query filters and page: `self`, which the links are made of
   * too). Refused here when the consent lets the TPP see no transaction, or the page is not a page.
   */
  function transactionsShape(call: Call, window: TimeWindow | undefined): TransactionsShape {
    const access = v3.transactionAccess(call.permissions);
    if (!access.allowed) {
      throw ObError.single(
        403,
        'UK.OBIE.Resource.InvalidConsentStatus',
        'the consent grants neither ReadTransactionsCredits nor ReadTransactionsDebits',
      );
    }
    const page = requestedPage(call.request);
    // JSON.stringify([call.accountIds, window.from, window.to, access, call.self]), the consent's accounts
    // not serialised again.
    const key = window
      ? `[${jsonOfList(call.accountIds)},${JSON.stringify([window.from, window.to, access, call.self]).slice(1)}`
      : undefined;
    return { window, access, page, key };
  }

  /**
   * A transactions page. Not `async`: a page answered again from its serialised answer under a read the
   * embedded database has answered already is sent in the tick the guard passes it (as `/accounts`); a
   * miss, or a read under way, continues through promises.
   */
  function transactions(call: Call, shape: TransactionsShape): MaybePromise<string> {
    // Read even when nothing is visible: with it comes the change version the request is checked under.
    return thenOrNow(readAccounts(call.accountIds), (read) => {
      assertCheckedUnder(call.request, read.changeVersion);
      const ledgerVersion = call.accountIds.map((id) => read.value.get(id)?.version ?? '-').join(',');
      const cached = shape.key === undefined ? undefined : pages.get(shape.key, ledgerVersion);
      if (cached !== undefined) return sendJson(call, cached);
      return transactionsPage(call, shape, ledgerVersion);
    });
  }

  /** A page not answered before under this ledger version: queried, mapped, serialised and kept. */
  async function transactionsPage(
    call: Call,
    { window, access, page, key }: TransactionsShape,
    ledgerVersion: string,
  ): Promise<string> {
    const result = window
      ? await listTransactions(db, call.accountIds, {
          ...window,
          ...(access.creditDebit ? { creditDebit: access.creditDebit } : {}),
          page: { number: page, size: PAGE_SIZE },
        })
      : EMPTY_PAGE(page);
    assertPageExists(page, result.totalPages);
    const { Links, Meta } = pageLinks(call.self, page, result.totalPages);
    const json = JSON.stringify({
      Data: { Transaction: result.items.map((t) => wire.mapTransaction(t, access)) },
      Links,
      Meta: {
        ...Meta,
        ...(result.firstBookedAt ? { FirstAvailableDateTime: obDateTime(result.firstBookedAt) } : {}),
        ...(result.lastBookedAt ? { LastAvailableDateTime: obDateTime(result.lastBookedAt) } : {}),
      },
    });
    if (key !== undefined) pages.set(key, ledgerVersion, json);
    return sendJson(call, json);
  }

  async function statementOf(call: Call): Promise<Statement> {
    const { AccountId, StatementId } = call.request.params as Params;
    const statement =
      AccountId !== undefined && StatementId !== undefined && StatementId.length <= 128
        ? await getStatement(db, AccountId, StatementId)
        : undefined;
    // Outside the consent's transaction window a statement is as invisible as one that does not exist.
    if (!statement || !overlaps(statement, consentWindow(call.intent))) {
      throw resourceNotFound(`no statement ${StatementId} on this account`);
    }
    return statement;
  }

  // --- Accounts -------------------------------------------------------------------------------------
  /**
   * Answered again from the serialised answer while every account's row version is the one it was made
   * under. One statement either way: the accounts' row versions with the change version, and the rows the
   * reader does not hold under their current version (none on a repeated read); the rows themselves, the
   * mapping and the serialisation are skipped on a hit. What the answer depends on beyond the rows is in
   * its key: the accounts asked for, the consent's permissions (Basic or Detail, ReadPAN) and the request
   * (`self`: path, query, page); the API version is this scope's. An account absent (unknown) is version
   * `-`; an internal one has a version but no record (never shown). The answer is kept under the versions
   * of the very statement its rows came with: exact.
   *
   * On PostgreSQL each answer also carries the change version that statement's snapshot saw: every
   * change to what an account answer is made of advances the change version in its own transaction (the
   * `bank_accounts_announced` trigger, migration 0018; a posting does not), so while this instance has heard
   * every announced change (`upToDate`, a cache lease) an answer kept under the version it has heard is the
   * answer a statement would give, and is sent without one, in the tick the guard passes the request. A
   * change written by SQL elsewhere is heard when its notification arrives (at most one lease later).
   */
  const heard = context.embedded ? undefined : context.changeVersion;
  const accounts = (call: Call) => {
    // JSON.stringify([call.accountIds, call.intent.permissions, call.self]), the consent's lists not
    // serialised again on every read.
    const key =
      (call.derived.accountsKey ??= `[${jsonOfList(call.accountIds)},${jsonOfList(call.intent.permissions)},${JSON.stringify(call.self)}]`);
    if (heard?.upToDate()) {
      const changeVersion = heard.current();
      const kept = accountAnswers.getByChangeVersion(key, changeVersion);
      if (kept !== undefined) {
        // Checked again first when a change was heard since the request's checks ran.
        assertCheckedUnder(call.request, changeVersion);
        return sendJson(call, kept);
      }
    }
    return thenOrNow(readAccounts(call.accountIds), (read) => accountsAnswer(call, key, read));
  };
  const accountsAnswer = (
    call: Call,
    key: string,
    read: Awaited<ReturnType<typeof readAccounts>>,
  ): string => {
    assertCheckedUnder(call.request, read.changeVersion);
    const versions = call.accountIds.map((id) => read.value.get(id)?.version ?? '-').join(',');
    let json = accountAnswers.get(key, versions, read.changeVersion);
    if (json === undefined) {
      const records = call.accountIds.flatMap((id) => read.value.get(id)?.record ?? []);
      if (call.accountId !== undefined && records.length === 0) {
        throw resourceNotFound(`no account ${call.accountId}`);
      }
      json = JSON.stringify(
        listBody(
          call,
          'Account',
          records.map((account) => wire.mapAccount(account, call.permissions)),
        ),
      );
      accountAnswers.set(key, versions, json, read.changeVersion);
    }
    return sendJson(call, json);
  };
  get('/accounts', ENDPOINT_PERMISSIONS.accounts, accounts, { foldsChangeVersion: true });
  get('/accounts/:AccountId', ENDPOINT_PERMISSIONS.accounts, accounts, { foldsChangeVersion: true });

  // --- Balances -------------------------------------------------------------------------------------
  const balances = async (call: Call) => {
    const now = clock.now();
    const list = await balancesOf(db, call.accountIds);
    return listBody(
      call,
      'Balance',
      list.flatMap((balance) => wire.mapBalances(balance, now)),
    );
  };
  get('/balances', ENDPOINT_PERMISSIONS.balances, balances);
  get('/accounts/:AccountId/balances', ENDPOINT_PERMISSIONS.balances, balances);

  // --- Transactions ---------------------------------------------------------------------------------
  // The window and key made on a URL's first read under a consent, not parsed again on every poll.
  const bookedTransactions = (call: Call) =>
    transactions(
      call,
      (call.derived.booked ??= transactionsShape(
        call,
        narrow(
          consentWindow(call.intent),
          queryWindow(call.request, 'fromBookingDateTime', 'toBookingDateTime'),
        ),
      )),
    );
  get('/transactions', ENDPOINT_PERMISSIONS.transactions, bookedTransactions, { foldsChangeVersion: true });
  get('/accounts/:AccountId/transactions', ENDPOINT_PERMISSIONS.transactions, bookedTransactions, {
    foldsChangeVersion: true,
  });

  // --- Beneficiaries, direct debits, standing orders, scheduled payments -----------------------------
  const beneficiaries = async (call: Call) =>
    listBody(
      call,
      'Beneficiary',
      (await listBeneficiaries(db, call.accountIds)).map((b) => wire.mapBeneficiary(b, call.permissions)),
    );
  get('/beneficiaries', ENDPOINT_PERMISSIONS.beneficiaries, beneficiaries);
  get('/accounts/:AccountId/beneficiaries', ENDPOINT_PERMISSIONS.beneficiaries, beneficiaries);

  const directDebits = async (call: Call) =>
    listBody(call, 'DirectDebit', (await listDirectDebits(db, call.accountIds)).map(wire.mapDirectDebit));
  get('/direct-debits', ENDPOINT_PERMISSIONS.directDebits, directDebits);
  get('/accounts/:AccountId/direct-debits', ENDPOINT_PERMISSIONS.directDebits, directDebits);

  const standingOrders = async (call: Call) =>
    listBody(
      call,
      'StandingOrder',
      (await listStandingOrders(db, call.accountIds)).map((o) => wire.mapStandingOrder(o, call.permissions)),
    );
  get('/standing-orders', ENDPOINT_PERMISSIONS.standingOrders, standingOrders);
  get('/accounts/:AccountId/standing-orders', ENDPOINT_PERMISSIONS.standingOrders, standingOrders);

  const scheduledPayments = async (call: Call) =>
    listBody(
      call,
      'ScheduledPayment',
      (await listScheduledPayments(db, call.accountIds)).map((p) =>
        wire.mapScheduledPayment(p, call.permissions),
      ),
    );
  get('/scheduled-payments', ENDPOINT_PERMISSIONS.scheduledPayments, scheduledPayments);
  get('/accounts/:AccountId/scheduled-payments', ENDPOINT_PERMISSIONS.scheduledPayments, scheduledPayments);

  // --- Statements -----------------------------------------------------------------------------------
  const statements = async (call: Call) => {
    const window = narrow(
      consentWindow(call.intent),
      queryWindow(call.request, 'fromStatementDateTime', 'toStatementDateTime'),
    );
    const list = window ? await listStatements(db, call.accountIds, window) : [];
    return listBody(
      call,
      'Statement',
      list.map((s) => wire.mapStatement(s, call.permissions)),
    );
  };
  get('/statements', ENDPOINT_PERMISSIONS.statements, statements);
  get('/accounts/:AccountId/statements', ENDPOINT_PERMISSIONS.statements, statements);
  get('/accounts/:AccountId/statements/:StatementId', ENDPOINT_PERMISSIONS.statements, async (call) => {
    const statement = await statementOf(call);
    return single(call, { Statement: [wire.mapStatement(statement, call.permissions)] });
  });
  get(
    '/accounts/:AccountId/statements/:StatementId/transactions',
    ENDPOINT_PERMISSIONS.statements,
    async (call) => {
      const statement = await statementOf(call);
      return transactions(
        call,
        transactionsShape(
          call,
          narrow(consentWindow(call.intent), { from: statement.startAt, to: statement.endAt }),
        ),
      );
    },
  );
  /**
   * The statement file. With `Accept: application/pdf` (and JSON not preferred): the statement as the
   * bank issued it, a PDF rendered from the ledger — ReadStatementsDetail is the permission the OB
   * specification gives for downloading statement files. Otherwise the JSON object the specification
   * types the response as (`File`): the statement with its amounts and its lines as this consent lets
   * the TPP see transactions (none when it grants none, Basic or Detail as granted, inside the
   * consent's transaction window).
   */
  get(
    '/accounts/:AccountId/statements/:StatementId/file',
    ENDPOINT_PERMISSIONS.statementFile,
    async (call) => {
      const now = clock.now();
      const statement = await statementOf(call);
      if (prefersPdf(call.request.headers.accept)) {
        const pdf = await renderStatementPdf(db, statement.accountId, statement.id);
        if (!pdf) throw resourceNotFound(`no statement ${statement.id}`);
        const name = (statement.reference ?? statement.id).replace(/[^A-Za-z0-9._-]/g, '_');
        return call.reply
          .type('application/pdf')
          .header('content-disposition', `attachment; filename="statement-${name}.pdf"`)
          .send(pdf);
      }
      const access = v3.transactionAccess(call.permissions);
      const window = narrow(consentWindow(call.intent), { from: statement.startAt, to: statement.endAt });
      const lines = [];
      if (access.allowed && window) {
        for (let page = 1, pages = 1; page <= pages; page += 1) {
          const result = await listTransactions(db, statement.accountId, {
            ...window,
            ...(access.creditDebit ? { creditDebit: access.creditDebit } : {}),
            status: ['Booked'],
            page: { number: page, size: 1000 },
          });
          pages = result.totalPages;
          lines.push(...result.items.map((t) => wire.mapTransaction(t, access)));
        }
      }
      return {
        Statement: wire.mapStatement(statement, call.permissions),
        Transaction: lines.reverse(),
        GeneratedDateTime: obDateTime(now),
      };
    },
  );

  // --- Products, offers ----------------------------------------------------------------------------
  const products = async (call: Call) =>
    listBody(
      call,
      'Product',
      (await listAccountProducts(db, call.accountIds)).map(({ accountId, product }) =>
        wire.mapProduct(accountId, product),
      ),
    );
  get('/products', ENDPOINT_PERMISSIONS.products, products);
  get('/accounts/:AccountId/product', ENDPOINT_PERMISSIONS.products, products);

  const offers = async (call: Call) =>
    listBody(call, 'Offer', (await listOffers(db, call.accountIds)).map(wire.mapOffer));
  get('/offers', ENDPOINT_PERMISSIONS.offers, offers);
  get('/accounts/:AccountId/offers', ENDPOINT_PERMISSIONS.offers, offers);

  // --- Parties --------------------------------------------------------------------------------------
  get('/party', ENDPOINT_PERMISSIONS.partyPsu, async (call) => {
    const party = call.intent.customerId ? await getCustomerParty(db, call.intent.customerId) : undefined;
    return single(call, party ? { Party: wire.mapParty(party) } : {});
  });
  get('/accounts/:AccountId/parties', ENDPOINT_PERMISSIONS.party, async (call) => {
    const parties = await listAccountParties(db, call.accountId ?? '');
    return listBody(
      call,
      'Party',
      parties.map(({ party, accountRole }) => wire.mapParty(party, accountRole)),
    );
  });
  /** The account's party for this PSU: the PSU's own when the PSU is a party of it, else its first holder. */
  get('/accounts/:AccountId/party', ENDPOINT_PERMISSIONS.party, async (call) => {
    const parties = await listAccountParties(db, call.accountId ?? '');
    const own = call.intent.customerId ? await getCustomerParty(db, call.intent.customerId) : undefined;
    const chosen = parties.find(({ party }) => party.id === own?.id) ?? parties[0];
    return single(call, chosen ? { Party: wire.mapParty(chosen.party, chosen.accountRole) } : {});
  });
}
