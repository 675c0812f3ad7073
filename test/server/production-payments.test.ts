import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { flattenedVerify, SignJWT, importPKCS8 } from 'jose';
import {
  balanceOf,
  createCustomer,
  createStandingOrder,
  getStandingOrder,
  openAccount,
  postExternalCredit,
  standingOrderEntries,
} from '../../src/bank/index.ts';
import {
  issueClientCertificate,
  issueServerCertificate,
  loadOrCreateSandboxAuthorities,
} from '../../src/pki/index.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { OB_ISS, OB_TAN } from '../../src/shared/ob-jws-claims.ts';
import { assertValidResponse } from '../support/openapi.ts';
import { call, httpsClient } from '../support/platform.ts';
import { startProductionBank, type ProductionBank } from '../support/production-bank.ts';

/**
 * A bank's platform (`sandbox: false`) with its own PKI files, as in production: the payment APIs exist
 * when the bank's message-signing identity is configured, and not (with a warning saying why) when it is
 * not; the payment scheduler pays standing orders either way.
 */

const work = mkdtempSync(join(tmpdir(), 'obkit-bank-'));
after(() => rmSync(work, { recursive: true, force: true }));

// The directory's CA (a test hierarchy in a temp dir), the bank's server certificate, a TPP's transport
// certificate, and the bank's signing key: all files, as a bank would configure them.
const authorities = await loadOrCreateSandboxAuthorities(join(work, 'directory-ca'), {
  organizationName: 'Test Directory',
});
const server = await issueServerCertificate(authorities.issuing, {
  dnsNames: ['localhost'],
  ipAddresses: ['127.0.0.1'],
});
const tpp = await issueClientCertificate(authorities.issuing, { commonName: 'test-tpp' });
const files = {
  cert: join(work, 'server.pem'),
  key: join(work, 'server.key.pem'),
  anchors: join(work, 'root-ca.pem'),
  intermediates: join(work, 'issuing-ca.pem'),
  signingKey: join(work, 'signing.key.pem'),
};
writeFileSync(files.cert, `${server.certificatePem.trim()}\n${server.chainPem.trim()}\n`);
writeFileSync(files.key, server.privateKeyPem, { mode: 0o600 });
writeFileSync(files.anchors, authorities.trustAnchorsPem);
writeFileSync(files.intermediates, authorities.issuing.certificatePem);
const signing = generateKeyPairSync('rsa', { modulusLength: 2048 });
writeFileSync(files.signingKey, signing.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });

const DIRECTORY_ISSUER = 'Test Directory Ltd';
const bankEnv = {
  OBKIT_SANDBOX: 'false',
  OBKIT_TLS_CERT_FILE: files.cert,
  OBKIT_TLS_KEY_FILE: files.key,
  OBKIT_TRUST_ANCHOR_FILES: files.anchors,
  OBKIT_TRANSPORT_CA_FILES: files.intermediates,
  // Nothing listens on port 1: the directory's keys cannot be fetched, which DCR reports distinctly.
  OBKIT_TRUSTED_DIRECTORIES: JSON.stringify([
    { issuer: DIRECTORY_ISSUER, jwksUri: 'https://127.0.0.1:1/directory.jwks' },
  ]),
  OBKIT_SCHEDULER_INTERVAL_MS: '100',
  // The TPP certificate above names no OCSP responder or CRL; what this file tests is which APIs mount, so
  // the bank accepts a status it cannot obtain. Revocation at a production bank: production-registration.test.ts.
  OBKIT_REVOCATION_FAIL_CLOSED: 'false',
};
const signingEnv = {
  OBKIT_SIGNING_KEY_FILE: files.signingKey,
  OBKIT_SIGNING_KID: 'bank-signing-kid',
  OBKIT_SIGNING_ISSUER: 'bank-org',
  OBKIT_SIGNING_TRUST_ANCHOR: 'openbanking.org.uk',
};

type Bank = ProductionBank<ManualClock>;

/** The production parts a bank runs (no sandbox directory), on a fresh test store, with logs kept. */
const startBank = (env: Record<string, string>): Promise<Bank> =>
  startProductionBank(env, { clock: new ManualClock(new Date()) });

const tppClient = () =>
  httpsClient([authorities.trustAnchorsPem], {
    certificatePem: tpp.fullChainPem,
    privateKeyPem: tpp.privateKeyPem,
  });

const DCR_SPEC = 'ob-dcr/v3.3/client-registration-openapi.json';
const CONSENTS = '/open-banking/v3.1/pisp/domestic-payment-consents';

async function postConsentWithoutToken(bank: Bank) {
  return call(tppClient(), `${bank.platform.urls.mtls}${CONSENTS}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-idempotency-key': 'k-1' },
    body: '{}',
  });
}

/** A standing order set up in the bank directly, due an hour from the platform clock's now. */
async function standingOrderDueSoon(bank: Bank) {
  const { db } = bank.platform.store;
  const ctx = { clock: bank.clock };
  const customer = await createCustomer(db, ctx, {
    username: 'payer',
    displayName: 'Payer',
    kind: 'personal',
  });
  const account = await openAccount(db, ctx, { holders: [customer.id], currency: 'GBP', name: 'Payer' });
  await postExternalCredit(db, ctx, { accountId: account.id, amountMinor: 100_000n, currency: 'GBP' });
  const order = await createStandingOrder(db, ctx, {
    accountId: account.id,
    frequency: 'EvryDay',
    currency: 'GBP',
    creditor: { schemeName: 'UK.OBIE.SortCodeAccountNumber', identification: '40000012345678', name: 'Rent' },
    reference: 'RENT',
    firstPaymentAt: new Date(bank.clock.now().getTime() + 3_600_000),
    firstPaymentMinor: 2_500n,
    numberOfPayments: 1,
  });
  return { accountId: account.id, orderId: order.id };
}

/** Moves the clock past the order's date and waits (bounded) for the platform's own scheduler to pay it. */
async function assertPaidByTheScheduler(bank: Bank, order: { accountId: string; orderId: string }) {
  const { db } = bank.platform.store;
  assert.deepEqual(await standingOrderEntries(db, order.orderId), [], 'not paid before it is due');
  bank.clock.advance(2 * 3_600_000);
  const deadline = Date.now() + 30_000;
  let entries = await standingOrderEntries(db, order.orderId);
  while (entries.length === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    entries = await standingOrderEntries(db, order.orderId);
  }
  assert.equal(entries.length, 1, 'the running platform paid the standing order once');
  assert.equal(entries[0]?.origin, `standing-order:${order.orderId}:1`);
  assert.equal((await balanceOf(db, order.accountId)).bookedMinor, 100_000n - 2_500n);
  assert.equal((await getStandingOrder(db, order.orderId))?.status, 'Inactive');
}

describe('a bank with its message-signing identity configured (sandbox: false)', async () => {
  const bank = await startBank({ ...bankEnv, ...signingEnv });

  it('mounts the payment APIs: a consent request without a token gets the OB 401, signed by the bank', async () => {
    const response = await postConsentWithoutToken(bank);
    assert.equal(response.status, 401, response.text);
    const body = response.body as { Code: string; Errors: { ErrorCode: string }[] };
    assert.equal(body.Code, '401');
    assert.match(body.Errors[0]?.ErrorCode ?? '', /^UK\.OBIE\./);
    // The specification's 401 has no body to validate: the OB error body is what the API layer sends.
    // The bank signs with the configured key, kid, issuer and trust anchor.
    const signature = response.headers['x-jws-signature'];
    assert.equal(typeof signature, 'string', 'the response carries x-jws-signature');
    const [protectedHeader = '', , value = ''] = String(signature).split('.');
    const verified = await flattenedVerify(
      {
        protected: protectedHeader,
        payload: Buffer.from(response.text).toString('base64url'),
        signature: value,
      },
      signing.publicKey as KeyObject,
      { crit: { [OB_ISS]: true, [OB_TAN]: true, 'http://openbanking.org.uk/iat': true } },
    );
    assert.equal(verified.protectedHeader?.kid, 'bank-signing-kid');
    assert.equal(verified.protectedHeader?.[OB_ISS], 'bank-org');
    assert.equal(verified.protectedHeader?.[OB_TAN], 'openbanking.org.uk');
  });

  it('does not warn that the payment APIs are missing', () => {
    assert.equal(
      bank.logs().some((entry) => /payment APIs .* not mounted/.test(entry.msg)),
      false,
    );
  });

  it('trusts the configured directory for DCR, and no other', async () => {
    const tppKey = await importPKCS8(tpp.privateKeyPem, 'PS256');
    const register = async (ssaIssuer: string) => {
      const ssa = await new SignJWT({ software_id: 'test-tpp', org_id: 'tpp-org' })
        .setProtectedHeader({ alg: 'PS256', kid: 'ssa' })
        .setIssuer(ssaIssuer)
        .setIssuedAt()
        .sign(tppKey);
      const body = await new SignJWT({ software_statement: ssa })
        .setProtectedHeader({ alg: 'PS256', kid: 'tpp' })
        .setIssuer('test-tpp')
        .setAudience('bank-at-directory')
        .setIssuedAt()
        .setExpirationTime('5m')
        .setJti(crypto.randomUUID())
        .sign(tppKey);
      return call(tppClient(), `${bank.platform.urls.mtls}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/jwt' },
        body,
      });
    };
    const untrusted = await register('Some Other Directory');
    assert.equal(untrusted.status, 400, untrusted.text);
    assert.equal((untrusted.body as { error: string }).error, 'unapproved_software_statement');
    assert.match(untrusted.text, /not a directory this bank trusts/);
    assertValidResponse(DCR_SPEC, '/register', 'post', 400, untrusted.body);
    // The configured directory is trusted: the bank goes on to fetch its keys (which cannot be reached here).
    const trusted = await register(DIRECTORY_ISSUER);
    assert.equal(trusted.status, 400, trusted.text);
    assert.equal((trusted.body as { error: string }).error, 'invalid_software_statement');
    assert.doesNotMatch(trusted.text, /not a directory this bank trusts/);
    assertValidResponse(DCR_SPEC, '/register', 'post', 400, trusted.body);
  });

  it('runs the payment scheduler: a standing order is paid when the clock reaches it', async () => {
    await assertPaidByTheScheduler(bank, await standingOrderDueSoon(bank));
  });
});

describe('a bank without a message-signing identity (sandbox: false)', async () => {
  const bank = await startBank(bankEnv);

  it('starts without the payment APIs: the path is an OB 404', async () => {
    const response = await postConsentWithoutToken(bank);
    assert.equal(response.status, 404, response.text);
    const body = response.body as { Errors: { ErrorCode: string }[] };
    assert.equal(body.Errors[0]?.ErrorCode, 'UK.OBIE.Resource.NotFound');
  });

  it('logs a warning saying why and which keys mount them', () => {
    const warning = bank.logs().find((entry) => /payment APIs .* not mounted/.test(entry.msg));
    assert.ok(warning, 'a warning about the payment APIs');
    assert.equal(warning.level, 40, 'at warn level');
    for (const key of ['OBKIT_SIGNING_KEY_FILE', 'OBKIT_SIGNING_KID', 'OBKIT_SIGNING_ISSUER']) {
      assert.match(warning.msg, new RegExp(key));
    }
  });

  it('still runs the payment scheduler for the bank', async () => {
    await assertPaidByTheScheduler(bank, await standingOrderDueSoon(bank));
  });
});
