/**
 * Account information reads/s — `GET /accounts/{AccountId}/transactions` (first page, 50 transactions,
 * every detail field) on the whole composed platform over HTTPS with mutual TLS and a PSU-authorised,
 * certificate-bound token obtained through the real journey (directory onboarding, DCR, consent, headless
 * sandbox approval, code exchange) — as a ratio to a bare Node https server with mutual TLS answering the
 * same JSON (JSON.stringify per request), measured in the same run with the same certificates, the same
 * autocannon settings (keep-alive connections) and the same client.
 * Database: embedded PGlite in a temporary folder (the sandbox default); with DATABASE_URL a fresh
 * PostgreSQL database is created and dropped.
 * Also: the same transactions read on Read/Write v4.0, as a ratio to v3.1.11 in the same run.
 * Run: PATH=$PWD/node_modules/.bin:$PATH node bench/ais.ts   (BENCH_SECONDS per phase, BENCH_CONNECTIONS)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/server/config.ts';
import { createLogger } from '../src/server/logger.ts';
import { selectParts } from '../src/server/parts.ts';
import { startPlatform } from '../src/server/platform.ts';
import { systemClock } from '../src/shared/clock.ts';
import { openStore, type Store } from '../src/store/index.ts';
import {
  clientCredentialsToken,
  completeAuthorization,
  startAuthorization,
} from '../src/tpp/authorization.ts';
import { connectToBank } from '../src/tpp/bank.ts';
import { readBundle } from '../src/tpp/bundle.ts';
import { createHttpClient } from '../src/tpp/http.ts';
import { onboard } from '../src/tpp/onboard.ts';
import { apiBaseOf, callApi, createAccountAccessConsent } from '../src/tpp/open-banking.ts';
import { registerAtBank } from '../src/tpp/register.ts';
import { approveInSandbox } from '../src/tpp/sandbox-approval.ts';

/** The part of autocannon's API used here (it ships no types). */
interface LoadOptions {
  url: string;
  connections: number;
  pipelining: number;
  duration: number;
  workers?: number;
  headers: Record<string, string>;
  tlsOptions: { cert: string; key: string; ca: string[] };
}
interface LoadResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (
  options: LoadOptions,
) => Promise<LoadResult>;

const seconds = Number(process.env.BENCH_SECONDS ?? '6');
/** The two diagnostic phases run for half as long. */
const diagnosticSeconds = Math.max(1, Math.round(seconds / 2));
const connections = Number(process.env.BENCH_CONNECTIONS ?? '8');

async function openBenchStore(dataDir: string): Promise<{ store: Store; drop(): Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const store = await openStore({ backend: 'pglite', dataDir: join(dataDir, 'pglite') });
    await store.migrate();
    return { store, drop: () => store.close() };
  }
  const name = `obkit_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${name}`;
  const store = await openStore({ backend: 'postgres', url: target.toString(), poolSize: 20 });
  await store.migrate();
  return {
    store,
    async drop() {
      await store.close();
      const dropper = new pg.Client({ connectionString: url });
      await dropper.connect();
      await dropper.query(`drop database if exists "${name}" with (force)`);
      await dropper.end();
    },
  };
}

interface Phase {
  label: string;
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function measure(
  label: string,
  url: string,
  tls: { cert: string; key: string; ca: string[] },
  headers: Record<string, string>,
  duration = seconds,
): Promise<Phase> {
  const options = {
    url,
    connections,
    pipelining: 1,
    // The load generator runs in its own thread, not on the event loop of the server it measures.
    workers: 1,
    headers,
    tlsOptions: { cert: tls.cert, key: tls.key, ca: tls.ca },
  };
  await autocannon({ ...options, duration: 1 }); // warm-up: JIT, caches, TLS session set-up
  const result = await autocannon({ ...options, duration });
  const phase: Phase = {
    label,
    requests: result.requests.total,
    perSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
  console.log(
    `${label.padEnd(58)} ${phase.perSecond.toFixed(0).padStart(7)} req/s   p50 ${String(phase.p50).padStart(4)} ms   p99 ${String(phase.p99).padStart(4)} ms   (${phase.requests} requests, ${phase.non2xx} non-2xx, ${phase.errors} errors)`,
  );
  return phase;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

const dataDir = await mkdtemp(join(tmpdir(), 'obkit-bench-ais-'));
const { store, drop } = await openBenchStore(dataDir);
const config = loadConfig({
  env: {
    OBKIT_DATA_DIR: dataDir,
    OBKIT_BROWSER_PORT: '0',
    OBKIT_MTLS_PORT: '0',
    OBKIT_OPERATOR_PORT: '0',
    OBKIT_LOG_LEVEL: 'silent',
    // Counted as in production, but never reached: one client sends more a minute here than any TPP should.
    OBKIT_RATE_LIMIT_MTLS: '100000000',
  },
});
const platform = await startPlatform({
  config,
  logger: createLogger(config),
  clock: systemClock,
  parts: selectParts('all'),
  store,
});
let baseline: Server | undefined;
try {
  const rootPem = readFileSync(join(dataDir, 'pki', 'root-ca.pem'), 'utf8');
  const discoveryUrl = `${platform.urls.browser}/.well-known/openid-configuration`;
  const redirectUri = 'https://bench-aisp.example/callback';
  const bundleDir = join(dataDir, 'tpp');
  await onboard({
    directoryUrl: platform.urls.browser,
    organisationName: 'bench-aisp',
    clientName: 'bench-aisp',
    roles: ['AISP'],
    redirectUris: [redirectUri],
    certificateProfile: 'obie',
    outDir: bundleDir,
    trust: [rootPem],
  });
  const registration = await registerAtBank(readBundle(bundleDir), { discoveryUrl, trust: [rootPem] });
  const bundle = readBundle(bundleDir);
  const bank = await connectToBank(bundle, {
    discoveryUrl,
    trust: [rootPem],
    clientId: registration.clientId,
  });
  const clientToken = (await clientCredentialsToken(bank, 'accounts')).access_token;
  const consent = await createAccountAccessConsent(bank, clientToken);
  const pending = await startAuthorization(bank, {
    intentId: consent.ConsentId,
    scope: 'accounts',
    redirectUri,
  });
  const browser = createHttpClient({ trust: [rootPem] });
  const back = await approveInSandbox(browser, pending.url, redirectUri, {
    username: 'alice',
    decision: 'approve',
  });
  await browser.close();
  const accessToken = (await completeAuthorization(bank, pending, back)).access_token;
  const api = `${apiBaseOf(bank)}/aisp`;
  const accounts = await callApi(bank, accessToken, `${api}/accounts`);
  const account = (
    accounts.json as { Data: { Account: { AccountId: string; AccountSubType: string; Currency: string }[] } }
  ).Data.Account.find((a) => a.AccountSubType === 'CurrentAccount' && a.Currency === 'GBP');
  if (!account) throw new Error('no GBP current account for alice');
  const url = `${api}/accounts/${account.AccountId}/transactions`;
  const sample = await callApi(bank, accessToken, url);
  if (sample.status !== 200) throw new Error(`the AIS call failed: ${sample.status} ${sample.text}`);
  const body = sample.json as { Data: { Transaction: unknown[] } };
  // The same read on Read/Write v4.0 (the v3.1.11 consent is usable there: OB version compatibility).
  const urlV4 = `${apiBaseOf(bank, undefined, '4.0')}/aisp/accounts/${account.AccountId}/transactions`;
  const sampleV4 = await callApi(bank, accessToken, urlV4);
  if (sampleV4.status !== 200)
    throw new Error(`the v4.0 AIS call failed: ${sampleV4.status} ${sampleV4.text}`);
  await bank.close();

  // The baseline: bare node https with the same server certificate and client-certificate verification.
  baseline = createServer(
    {
      key: platform.tls.key,
      cert: platform.tls.cert,
      ca: platform.tls.ca,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (request, response) => {
      const json = JSON.stringify(body);
      response.writeHead(200, { 'content-type': 'application/json', 'x-fapi-interaction-id': randomUUID() });
      response.end(json);
    },
  );
  baseline.keepAliveTimeout = 65_000;
  const baselinePort = await listen(baseline);

  const tls = { cert: bundle.transportCertificatePem, key: bundle.transportKeyPem, ca: [rootPem] };
  const headers = {
    authorization: `Bearer ${accessToken}`,
    accept: 'application/json',
    'x-fapi-interaction-id': randomUUID(),
    'x-fapi-customer-ip-address': '198.51.100.7',
  };
  console.log(
    `GET /accounts/{id}/transactions, ${body.Data.Transaction.length} transactions per page, ${sample.text.length} bytes; ` +
      `${connections} keep-alive connections, ${seconds}s per phase, ${store.backend}`,
  );
  const bare = await measure(
    'bare node https + mTLS, same JSON',
    `https://localhost:${baselinePort}/transactions`,
    tls,
    headers,
  );
  const ais = await measure('obkit AIS transactions (guard, bound token, ledger query)', url, tls, headers);
  const aisV4 = await measure('obkit AIS v4.0 transactions (same read, v4.0 mapping)', urlV4, tls, headers);
  // v3.1.11 once more after v4.0, so that drift over the run (a shared machine) does not favour either.
  const aisAgain = await measure('obkit AIS transactions (v3.1.11 again)', url, tls, headers);
  const v3PerSecond = (ais.perSecond + aisAgain.perSecond) / 2;
  const accountUrl = `${api}/accounts/${account.AccountId}`;
  const single = await measure(
    'obkit AIS /accounts/{id} (guard + one small query)',
    accountUrl,
    tls,
    headers,
    diagnosticSeconds,
  );
  // Diagnostic: the surface and the whole guard (certificate, cached token, binding, scope, FAPI headers,
  // cached consent, permissions) with no bank query: an account not in the consent, refused at the last check.
  const guardOnly = await measure(
    'obkit guard alone (400 NotFound at its last check, no bank query)',
    `${api}/accounts/not-in-this-consent`,
    tls,
    headers,
    diagnosticSeconds,
  );
  if (guardOnly.requests !== guardOnly.non2xx) throw new Error('the guard let an unselected account through');
  // The client certificate's revocation status is checked on every request (cached until its nextUpdate):
  // the same read on a second instance of this platform (same database and keys) that skips the check.
  const unchecked = await startPlatform({
    config,
    logger: createLogger(config),
    clock: systemClock,
    parts: selectParts('all'),
    store,
    checkCertificateStatus: false,
  });
  let withoutStatus: Phase;
  try {
    withoutStatus = await measure(
      'obkit AIS /accounts/{id}, revocation status NOT checked',
      `${unchecked.urls.mtls}${new URL(accountUrl).pathname}`,
      tls,
      headers,
      diagnosticSeconds,
    );
  } finally {
    await unchecked.close();
  }
  // Every request reads the store's change version first (one primary-key query on PostgreSQL; nothing on
  // PGlite): the same read on a second instance that never reads it.
  const unversioned = await startPlatform({
    config,
    logger: createLogger(config),
    clock: systemClock,
    parts: selectParts('all'),
    store,
    readChangeVersion: false,
  });
  let withoutVersion: Phase;
  try {
    withoutVersion = await measure(
      'obkit AIS /accounts/{id}, change version NOT read',
      `${unversioned.urls.mtls}${new URL(accountUrl).pathname}`,
      tls,
      headers,
      diagnosticSeconds,
    );
  } finally {
    await unversioned.close();
  }
  const withStatus = await measure(
    'obkit AIS /accounts/{id}, revocation status checked (again)',
    accountUrl,
    tls,
    headers,
    diagnosticSeconds,
  );
  if (ais.non2xx > 0 || ais.errors > 0 || single.non2xx > 0 || aisV4.non2xx > 0 || aisV4.errors > 0)
    throw new Error('the AIS endpoint answered errors under load');
  console.log(
    `ratio transactions / bare: ${(ais.perSecond / bare.perSecond).toFixed(3)}   ` +
      `transactions v4.0 / v3.1.11: ${(aisV4.perSecond / v3PerSecond).toFixed(3)}   ` +
      `accounts / bare: ${(single.perSecond / bare.perSecond).toFixed(3)}   ` +
      `guard alone / bare: ${(guardOnly.perSecond / bare.perSecond).toFixed(3)}   ` +
      // The unchecked phase sits between two checked ones (same read): their mean cancels the drift of a
      // shared machine, as the v3.1.11 phases around the v4.0 one do.
      `revocation checked / not checked: ${((single.perSecond + withStatus.perSecond) / 2 / withoutStatus.perSecond).toFixed(3)}`,
  );
  console.log(
    // The same two checked phases frame this one.
    `ratio change version read / not read (${store.backend}): ${((single.perSecond + withStatus.perSecond) / 2 / withoutVersion.perSecond).toFixed(3)}`,
  );
} finally {
  baseline?.closeAllConnections();
  await new Promise<void>((resolve) => (baseline ? baseline.close(() => resolve()) : resolve()));
  await platform.close();
  await drop();
  await rm(dataDir, { recursive: true, force: true });
}
