/**
 * A payment API harness: the PIS/VRP/CoF routes on a fastify app over a fresh test store (PGlite, or
 * PostgreSQL with DATABASE_URL), a real client certificate attached per request, tokens from a map (the
 * TokenSource test double), a TPP signing key resolved from a local JWKS, and the bank's response signer.
 */
import assert from 'node:assert/strict';
import { randomUUID, X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { exportJWK, flattenedVerify, generateKeyPair, importJWK, type CryptoKey } from 'jose';
import {
  createCustomer,
  openAccount,
  postExternalCredit,
  verifyLedger,
  type AccountRecord,
} from '../../src/bank/index.ts';
import { authorise, getIntent } from '../../src/consent/index.ts';
import { ObError, obErrorBody } from '../../src/openbanking/errors.ts';
import {
  createGuardCaches,
  type AccessTokenView,
  type GuardCaches,
} from '../../src/openbanking/guard/index.ts';
import {
  detachedSigner,
  type ResponseSigner,
  type SigningKeyResolver,
} from '../../src/openbanking/http/jws.ts';
import { OB_IAT, OB_ISS, OB_TAN } from '../../src/shared/ob-jws-claims.ts';
import { API_BASES } from '../../src/openbanking/http/wire.ts';
import { paymentInitiation, type PaymentsContext } from '../../src/openbanking/pis/index.ts';
import { issueClientCertificate, loadOrCreateSandboxAuthorities } from '../../src/pki/index.ts';
import { attachClientCertificate, describeClientCertificate } from '../../src/shared/client-certificate.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { idempotencyKeys, type Store } from '../../src/store/index.ts';
import { createTestStore } from '../support/store.ts';

export const TRUST_ANCHOR = 'openbanking.org.uk';
export const TPP_ISSUER = '0015800001041REAAY/tpp-software-a';
export const TPP_KID = 'tpp-signing-1';
export const CLIENT = 'client-a';

export interface Harness {
  store: Store;
  clock: ManualClock;
  app: FastifyInstance;
  tppSigner: ResponseSigner;
  /** Signs as the TPP with any header tweaks (for refusal tests). */
  tppSign(body: string, header?: Record<string, unknown>, key?: CryptoKey): Promise<string>;
  bankPublicKey: CryptoKey;
  tokens: Map<string, AccessTokenView>;
  /** The guard's token and consent caches, as the API part makes them. */
  caches: GuardCaches;
  /** Consents whose revocation was announced. */
  revoked: string[];
  customerId: string;
  otherCustomerId: string;
  alice: AccountRecord;
  aliceOther: AccountRecord;
  bob: AccountRecord;
  mallory: AccountRecord;
  /** A client_credentials token for consent endpoints. */
  ccToken: string;
  /** Has the PSU authorise the consent from `accountId` and returns an authorization_code token for it. */
  authorise(consentId: string, accountId?: string): Promise<string>;
  post(
    path: string,
    body: unknown,
    options?: {
      token?: string;
      key?: string | null;
      signature?: string | null;
      raw?: string;
      contentType?: string;
    },
  ): Promise<Response>;
  get(path: string, token?: string): Promise<Response>;
  del(path: string, token?: string): Promise<Response>;
  /** The ledger is sound: balanced entries, caches equal to postings, no account below its limit. */
  assertLedgerSound(): Promise<void>;
}

export interface Response {
  status: number;
  body: {
    Data?: Record<string, unknown>;
    Errors?: { ErrorCode: string; Message: string; Path?: string }[];
  } & Record<string, unknown>;
  text: string;
  headers: Record<string, unknown>;
}

const authorities = loadOrCreateSandboxAuthorities(mkdtempSync(join(tmpdir(), 'obkit-pis-')));

export async function createHarness(
  options: {
    mount?: (scope: FastifyInstance, context: PaymentsContext) => Promise<void>;
    prefix?: string;
    clock?: ManualClock;
    /** Whether responses must carry the bank's x-jws-signature (PIS, VRP: yes; CoF: no). */
    signed?: boolean;
  } = {},
): Promise<Harness> {
  const clock = options.clock ?? new ManualClock('2026-03-02T10:00:00Z');
  const store = await createTestStore();
  const db = store.db;
  const ctx = { clock };
  const certificate = describeClientCertificate(
    new X509Certificate(
      (await issueClientCertificate((await authorities).issuing, { commonName: 'tpp-a' })).certificatePem,
    ),
    'tls',
  );

  const customer = await createCustomer(db, ctx, {
    username: `alice-${randomUUID().slice(0, 8)}`,
    displayName: 'Alice',
    kind: 'personal',
  });
  const other = await createCustomer(db, ctx, {
    username: `mallory-${randomUUID().slice(0, 8)}`,
    displayName: 'Mallory',
    kind: 'personal',
  });
  const bobCustomer = await createCustomer(db, ctx, {
    username: `bob-${randomUUID().slice(0, 8)}`,
    displayName: 'Bob',
    kind: 'personal',
  });
  const alice = await openAccount(db, ctx, { holders: [customer.id], currency: 'GBP', name: 'Alice Smith' });
  const aliceOther = await openAccount(db, ctx, {
    holders: [customer.id],
    currency: 'GBP',
    name: 'Alice Smith',
    creditLimitMinor: 50_000n,
  });
  const bob = await openAccount(db, ctx, { holders: [bobCustomer.id], currency: 'GBP', name: 'Bob Jones' });
  const mallory = await openAccount(db, ctx, { holders: [other.id], currency: 'GBP', name: 'Mallory' });
  for (const account of [alice, mallory]) {
    await postExternalCredit(db, ctx, {
      accountId: account.id,
      amountMinor: 100_000n,
      currency: 'GBP',
      reference: 'salary',
    });
  }

  const tpp = await generateKeyPair('PS256', { extractable: true });
  const bank = await generateKeyPair('PS256', { extractable: true });
  // The TPP's software JWKS, as the directory would publish it.
  const jwks = { keys: [{ ...(await exportJWK(tpp.publicKey)), kid: TPP_KID, use: 'sig', alg: 'PS256' }] };
  const keys: SigningKeyResolver = {
    async keyFor(clientId, kid) {
      if (clientId !== CLIENT) return undefined;
      const jwk = jwks.keys.find((key) => key.kid === kid);
      return jwk ? { key: (await importJWK(jwk, 'PS256')) as CryptoKey, issuers: [TPP_ISSUER] } : undefined;
    },
  };
  const tppSigner = detachedSigner({
    key: tpp.privateKey,
    kid: TPP_KID,
    issuer: TPP_ISSUER,
    trustAnchor: TRUST_ANCHOR,
    clock,
  });

  const tokens = new Map<string, AccessTokenView>();
  const revoked: string[] = [];
  const caches = createGuardCaches(
    { tokens: { find: async (value) => tokens.get(value) }, intents: { find: (id) => getIntent(db, id) } },
    { clock, ttlMs: 30_000, maxEntries: 1000 },
  );
  const context: PaymentsContext = {
    db,
    clock,
    idempotencyKeys,
    guard: {
      tokens: caches.tokens,
      intents: caches.intents,
      // No directory in this harness: every client stands for an Active participant.
      participants: { checkClient: async () => ({ active: true }) },
      clock,
    },
    signatures: { keys, trustAnchor: TRUST_ANCHOR, clock },
    signer: detachedSigner({
      key: bank.privateKey,
      kid: 'bank-1',
      issuer: 'model-bank',
      trustAnchor: TRUST_ANCHOR,
      clock,
    }),
    publicBaseUrl: `https://bank.example${options.prefix ?? API_BASES.pisp}`,
    forgetIntent: (id) => caches.forgetIntent(id),
    notifyRevoked: async (id) => {
      revoked.push(id);
      caches.forgetIntent(id);
    },
  };

  const app = Fastify();
  app.addHook('onRequest', async (request) => {
    if (request.headers['x-test-certificate'] !== 'none') attachClientCertificate(request.raw, certificate);
  });
  app.setErrorHandler((error: FastifyError | ObError, request, reply) => {
    if (error instanceof ObError) return reply.status(error.status).send(obErrorBody(error, request.id));
    const status = error.statusCode ?? 500;
    if (status >= 500) return reply.status(500).send({ unexpected: String(error), stack: error.stack });
    return reply
      .status(status)
      .send(obErrorBody(ObError.single(status, 'UK.OBIE.Resource.InvalidFormat', error.message), request.id));
  });
  await app.register(async (scope) => (options.mount ?? paymentInitiation)(scope, context), {
    prefix: options.prefix ?? API_BASES.pisp,
  });
  await app.ready();
  after(() => app.close());

  const ccToken = `cc-${randomUUID()}`;
  tokens.set(ccToken, {
    clientId: CLIENT,
    scopes: new Set(['openid', 'payments', 'fundsconfirmations']),
    grantType: 'client_credentials',
    certificateThumbprint: certificate.thumbprintS256,
    roles: ['AISP', 'PISP', 'CBPII'],
    intentId: undefined,
    customerId: undefined,
    expiresAt: new Date('2030-01-01T00:00:00Z'),
  });
  const prefix = options.prefix ?? API_BASES.pisp;

  async function toResponse(response: Awaited<ReturnType<FastifyInstance['inject']>>): Promise<Response> {
    const text = response.body;
    let body: Response['body'];
    try {
      body = text ? (JSON.parse(text) as Response['body']) : {};
    } catch {
      body = {};
    }
    const signature = response.headers['x-jws-signature'];
    if (text && options.signed !== false) {
      assert.equal(typeof signature, 'string', `the ${response.statusCode} response must be signed`);
      // Every response verifies with the bank's key over the exact bytes sent.
      const [protectedHeader, , sig] = String(signature).split('.');
      await flattenedVerify(
        { protected: protectedHeader!, payload: Buffer.from(text).toString('base64url'), signature: sig! },
        bank.publicKey,
        { algorithms: ['PS256'], crit: { [OB_IAT]: true, [OB_ISS]: true, [OB_TAN]: true } },
      );
    }
    return { status: response.statusCode, body, text, headers: response.headers };
  }

  return {
    store,
    clock,
    app,
    tppSigner,
    async tppSign(body, header = {}, key = tpp.privateKey) {
      const { CompactSign } = await import('jose');
      const protectedHeader = {
        alg: 'PS256',
        kid: TPP_KID,
        typ: 'JOSE',
        cty: 'application/json',
        [OB_IAT]: Math.floor(clock.now().getTime() / 1000),
        [OB_ISS]: TPP_ISSUER,
        [OB_TAN]: TRUST_ANCHOR,
        crit: [OB_IAT, OB_ISS, OB_TAN],
        ...header,
      };
      for (const [name, value] of Object.entries(protectedHeader)) {
        if (value === undefined) delete (protectedHeader as Record<string, unknown>)[name];
      }
      const compact = await new CompactSign(new TextEncoder().encode(body))
        .setProtectedHeader(protectedHeader as { alg: string })
        .sign(key, {
          crit: {
            [OB_IAT]: true,
            [OB_ISS]: true,
            [OB_TAN]: true,
            ...(header.crit ? Object.fromEntries((header.crit as string[]).map((c) => [c, true])) : {}),
          },
        });
      const [h, , s] = compact.split('.');
      return `${h}..${s}`;
    },
    bankPublicKey: bank.publicKey,
    tokens,
    caches,
    revoked,
    customerId: customer.id,
    otherCustomerId: other.id,
    alice,
    aliceOther,
    bob,
    mallory,
    ccToken,
    async authorise(consentId, accountId = alice.id) {
      const intent = await authorise({ db, clock }, consentId, {
        customerId: customer.id,
        accountIds: [accountId],
      });
      const token = `ac-${randomUUID()}`;
      tokens.set(token, {
        clientId: CLIENT,
        scopes: new Set(['openid', intent.kind === 'funds-confirmation' ? 'fundsconfirmations' : 'payments']),
        grantType: 'authorization_code',
        certificateThumbprint: certificate.thumbprintS256,
        roles: ['AISP', 'PISP', 'CBPII'],
        intentId: consentId,
        customerId: customer.id,
        expiresAt: new Date('2030-01-01T00:00:00Z'),
      });
      caches.forgetIntent(consentId);
      return token;
    },
    async post(path, body, { token = ccToken, key = randomUUID(), signature, raw, contentType } = {}) {
      const payload = raw ?? JSON.stringify(body);
      const headers: Record<string, string> = {
        authorization: `Bearer ${token}`,
        'content-type': contentType ?? 'application/json',
      };
      if (key !== null) headers['x-idempotency-key'] = key;
      const sig = signature === undefined ? await tppSigner.sign(payload) : signature;
      if (sig !== null) headers['x-jws-signature'] = sig;
      return toResponse(await app.inject({ method: 'POST', url: `${prefix}${path}`, headers, payload }));
    },
    async get(path, token = ccToken) {
      return toResponse(
        await app.inject({
          method: 'GET',
          url: `${prefix}${path}`,
          headers: { authorization: `Bearer ${token}` },
        }),
      );
    },
    async del(path, token = ccToken) {
      return toResponse(
        await app.inject({
          method: 'DELETE',
          url: `${prefix}${path}`,
          headers: { authorization: `Bearer ${token}` },
        }),
      );
    },
    async assertLedgerSound() {
      assert.deepEqual(await verifyLedger(db), []);
      const sums = (await db.execute(
        (await import('drizzle-orm'))
          .sql`select currency, sum(amount_minor)::text as total from bank_postings where status <> 'Rejected' group by currency`,
      )) as unknown as { rows: { currency: string; total: string }[] };
      for (const row of sums.rows) assert.equal(row.total, '0', `postings in ${row.currency} sum to zero`);
    },
  };
}

/** A valid OBWriteDomesticConsent4 body paying `amount` GBP to `creditor`. */
export function domesticConsent(
  creditor: AccountRecord | { sortCode: string; accountNumber: string; name: string },
  amount = '10.50',
  extra: { debtor?: AccountRecord; currency?: string } = {},
) {
  return {
    Data: {
      Initiation: {
        InstructionIdentification: `instr-${randomUUID().slice(0, 8)}`,
        EndToEndIdentification: 'E2E-0001',
        LocalInstrument: 'UK.OBIE.FPS',
        InstructedAmount: { Amount: amount, Currency: extra.currency ?? 'GBP' },
        ...(extra.debtor
          ? {
              DebtorAccount: {
                SchemeName: 'UK.OBIE.SortCodeAccountNumber',
                Identification: `${extra.debtor.sortCode}${extra.debtor.accountNumber}`,
                Name: extra.debtor.name,
              },
            }
          : {}),
        CreditorAccount: {
          SchemeName: 'UK.OBIE.SortCodeAccountNumber',
          Identification: `${creditor.sortCode}${creditor.accountNumber}`,
          Name: creditor.name,
        },
        RemittanceInformation: { Reference: 'Invoice 42', Unstructured: 'Thank you' },
      },
    },
    Risk: { PaymentContextCode: 'PartyToParty' },
  };
}

/** An account as an OB identification by sort code and account number. */
export function sortCodeAccount(account: AccountRecord) {
  return {
    SchemeName: 'UK.OBIE.SortCodeAccountNumber',
    Identification: `${account.sortCode}${account.accountNumber}`,
    Name: account.name,
  };
}

/** A sweeping VRP consent body (v3.1.11) paying `creditor`, with GBP periodic limits, at most `maximum` a payment. */
export function sweepingVrpConsent(
  creditor: AccountRecord,
  limits: { PeriodType: string; PeriodAlignment: string; Amount: string }[],
  maximum = '50.00',
) {
  return {
    Data: {
      ReadRefundAccount: 'No',
      ControlParameters: {
        ValidToDateTime: '2027-12-31T00:00:00+00:00',
        MaximumIndividualAmount: { Amount: maximum, Currency: 'GBP' },
        PeriodicLimits: limits.map((limit) => ({ ...limit, Currency: 'GBP' })),
        VRPType: ['UK.OBIE.VRPType.Sweeping'],
        PSUAuthenticationMethods: ['UK.OBIE.SCANotRequired'],
        PSUInteractionTypes: ['OffSession'],
      },
      Initiation: {
        CreditorAccount: sortCodeAccount(creditor),
        RemittanceInformation: { Reference: 'Sweep' },
      },
    },
    Risk: { PaymentContextCode: 'TransferToSelf' },
  };
}

export type SweepingVrpConsent = ReturnType<typeof sweepingVrpConsent>;

/**
 * Stages `body` and has the PSU authorise it; `pay(amount)` submits a VRP payment under it to the consent's
 * creditor (`options.instruction` overrides fields of the instruction).
 */
export async function authorisedSweepingVrp(h: Harness, body: SweepingVrpConsent) {
  const staged = await h.post('/domestic-vrp-consents', body);
  assert.equal(staged.status, 201, staged.text);
  const consentId = String(staged.body.Data?.ConsentId);
  const token = await h.authorise(consentId);
  const pay = (amount: string, options: { key?: string; instruction?: Record<string, unknown> } = {}) =>
    h.post(
      '/domestic-vrps',
      {
        Data: {
          ConsentId: consentId,
          PSUAuthenticationMethod: 'UK.OBIE.SCANotRequired',
          PSUInteractionType: 'OffSession',
          VRPType: 'UK.OBIE.VRPType.Sweeping',
          Initiation: body.Data.Initiation,
          Instruction: {
            InstructionIdentification: `i-${randomUUID().slice(0, 8)}`,
            EndToEndIdentification: 'E2E-VRP',
            InstructedAmount: { Amount: amount, Currency: 'GBP' },
            CreditorAccount: body.Data.Initiation.CreditorAccount,
            RemittanceInformation: { Reference: 'Sweep' },
            ...options.instruction,
          },
        },
        Risk: body.Risk,
      },
      { token, ...(options.key ? { key: options.key } : {}) },
    );
  return { consentId, token, pay, staged };
}
