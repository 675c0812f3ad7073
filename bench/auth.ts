/**
 * Authorization server throughput: client_credentials tokens/s on the whole composed platform (mTLS
 * surface, certificate and participant checks, rate limits, the FAPI provider configuration), for a TPP
 * onboarded at the directory and registered by DCR (so its client lives in the store), authenticating with
 * private_key_jwt (PS256) over mutual TLS, every token certificate-bound and persisted through the store —
 * as a ratio to a bare oidc-provider (same client metadata and keys, same client authentication and mTLS,
 * in-memory adapter, plain node https) measured in the same run with the same client code. Beside it, for
 * information, the same bare provider with a plain SQL adapter persisting into the same store (`persisting
 * baseline`): what keeping tokens and assertion ids durable costs oidc-provider without obkit.
 * Concurrency 1 and 8; after both servers were warmed until their CPU per token settled, the median of
 * several baseline, obkit, obkit, baseline brackets (support/brackets.ts), with their spread; `--aa` measures
 * the baseline on both sides (an A/A check of the method).
 * The client (assertion signing, TLS, undici) runs in this process, on the thread both servers run on: its
 * work is in every phase alike, so the ratio compares like with like but is nearer 1 than the servers'
 * own ratio would be; each phase also prints main-thread and CPU milliseconds per token (client
 * included), whose difference between phases is the difference between the servers.
 * Cost as work grows: the same figure again with 10,000 more clients registered in the store; then each of
 * them gets a token, and the heap each holds after that (after GC, an information line) is printed.
 * Database: PGlite in a temporary folder, or a fresh PostgreSQL database with DATABASE_URL.
 * Run: npm run bench -- auth [--store pglite|postgres|both] [--concurrency 1,8] [--aa]   (BENCH_BRACKETS,
 * BENCH_BRACKET_SECONDS per phase, BENCH_CLIENTS for the grown phase, 0 to leave it out; BENCH_PROFILE_DIR
 * profiles every phase: summarise with bench/support/profile-summary.ts)
 */
import { randomUUID, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { and, eq, sql } from 'drizzle-orm';
import { SignJWT, exportJWK } from 'jose';
import Provider, { type ClientMetadata } from 'oidc-provider';
import { Agent, request } from 'undici';
import { authModels } from '../src/store/schema/auth.ts';
import {
  attachClientCertificate,
  clientCertificateOf,
  describeClientCertificate,
} from '../src/shared/client-certificate.ts';
import { importSigningKey } from '../src/tpp/bank.ts';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import type { Backend, Database } from '../src/store/index.ts';
import {
  benchOptions,
  bracketedRatio,
  bracketPlan,
  closedLoop,
  countStatements,
  heapAfterGc,
  machineLine,
  mainThreadWindow,
  megabytes,
  onboardTpp,
  printRatio,
  startBenchPlatform,
  statementsPerRequest,
  type BracketedFigure,
  type BracketSide,
  type PhaseResult,
} from './support/index.ts';

const options = benchOptions();
const phaseSeconds = options.bracketSeconds;
const grownClients = Number(process.env.BENCH_CLIENTS ?? '10000');

/**
 * BENCH_HEAP_SNAPSHOTS names a folder: the grown phase writes a heap snapshot there (after the collection of
 * its reading) before the grown clients' tokens and after them, to compare by constructor
 * (bench/support/heap-snapshot-diff.ts).
 */
function heapSnapshot(backend: Backend, moment: string): void {
  const folder = process.env.BENCH_HEAP_SNAPSHOTS;
  if (!folder) return;
  const file = writeHeapSnapshot(join(folder, `auth-${backend}-${moment}.heapsnapshot`));
  console.log(`(heap snapshot ${file})`);
}

type ProviderConfiguration = ConstructorParameters<typeof Provider>[1];

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

/** The persisting baseline's table: a model's rows by id, as oidc-provider's adapter interface keeps them. */
const PERSISTING_TABLE = `create table if not exists bench_bare_models (
  model text not null, id text not null, payload jsonb not null, expires_at timestamptz,
  primary key (model, id))`;

/**
 * A plain SQL adapter for oidc-provider (its adapter interface, as its documentation's example keeps models),
 * each call one statement built where it is made: a `client_credentials` token costs the provider a look-up
 * and an insert of the assertion's `jti` (`ReplayDetection.unique`) and an insert of the token — three
 * statements where obkit's token endpoint sends one.
 */
function persistingAdapter(db: Database) {
  return class PersistingAdapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
      const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000).toISOString() : null;
      await db.execute(sql`
        insert into bench_bare_models (model, id, payload, expires_at)
        values (${this.model}, ${id}, ${JSON.stringify(payload)}::jsonb, ${expiresAt}::timestamptz)
        on conflict (model, id) do update set payload = excluded.payload, expires_at = excluded.expires_at`);
    }

    async find(id: string): Promise<Record<string, unknown> | undefined> {
      const found = await db.execute(sql`
        select payload from bench_bare_models
         where model = ${this.model} and id = ${id} and (expires_at is null or expires_at > now())`);
      return (found as unknown as { rows: { payload: Record<string, unknown> }[] }).rows[0]?.payload;
    }

    async findByUserCode(): Promise<undefined> {
      return undefined;
    }

    async findByUid(): Promise<undefined> {
      return undefined;
    }

    async consume(id: string): Promise<void> {
      await db.execute(sql`
        update bench_bare_models set payload = payload || jsonb_build_object('consumed', extract(epoch from now())::int)
         where model = ${this.model} and id = ${id}`);
    }

    async destroy(id: string): Promise<void> {
      await db.execute(sql`delete from bench_bare_models where model = ${this.model} and id = ${id}`);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db.execute(
        sql`delete from bench_bare_models where model = ${this.model} and payload ->> 'grantId' = ${grantId}`,
      );
    }
  };
}

console.log(machineLine());
for (const backend of options.stores) await run(backend);
// Undici keeps idle sockets of the benchmark agents for a while; the measurements are done.
process.exit(0);

async function run(backend: Backend): Promise<void> {
  const bench = await startBenchPlatform(backend, 'auth');
  const bareServers: Server[] = [];
  try {
    const { platform, store } = bench;
    const tpp = await onboardTpp(bench, 'bench-auth', ['AISP', 'PISP']);
    await tpp.bank.close();
    const signingKey = await importSigningKey(tpp.bundle);
    const kid = tpp.bundle.summary.certificates.signing.kid;
    const [stored] = await store.db
      .select({ payload: authModels.payload })
      .from(authModels)
      .where(sqlClient(tpp.clientId));
    if (!stored) throw new Error('the registered client is not in the store');
    const registered = stored.payload as ClientMetadata;

    // --- the baseline: a bare oidc-provider, in-memory adapter, the same client metadata, plain node https
    const signingCertificate = new X509Certificate(tpp.bundle.signingCertificatePem);
    const bareClient: ClientMetadata = {
      client_id: tpp.clientId,
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'PS256',
      jwks: {
        keys: [
          { ...(await exportJWK(signingCertificate.publicKey)), kid, alg: 'PS256', use: 'sig' },
        ] as never,
      },
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: registered.scope ?? 'openid accounts payments',
      tls_client_certificate_bound_access_tokens: true,
    };
    const bareConfiguration = {
      clients: [bareClient],
      clientAuthMethods: ['private_key_jwt'],
      features: {
        clientCredentials: { enabled: true },
        devInteractions: { enabled: false },
        mTLS: {
          enabled: true,
          certificateBoundAccessTokens: true,
          getCertificate: (ctx) => clientCertificateOf(ctx.req)?.x509,
        },
      },
      scopes: ['openid', 'accounts', 'payments'],
      enabledJWA: { clientAuthSigningAlgValues: ['PS256'] },
      ttl: { ClientCredentials: 300 },
    } satisfies ProviderConfiguration;
    /** A bare oidc-provider on plain node https with the platform's TLS material; its issuer. */
    async function startBareProvider(configuration: ProviderConfiguration): Promise<string> {
      const server = createServer({
        key: platform.tls.key,
        cert: platform.tls.cert,
        ca: platform.tls.ca,
        requestCert: true,
        rejectUnauthorized: true,
      });
      bareServers.push(server);
      server.keepAliveTimeout = 65_000;
      const issuer = `https://localhost:${await listen(server)}`;
      const callback = new Provider(issuer, configuration).callback();
      server.on('request', (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerX509Certificate();
        if (peer) attachClientCertificate(req, describeClientCertificate(peer, 'tls'));
        void callback(req, res);
      });
      return issuer;
    }
    const bareIssuer = await startBareProvider(bareConfiguration);

    // --- for information: the same bare provider, its models persisted by a plain SQL adapter in this store
    await store.db.execute(sql.raw(PERSISTING_TABLE));
    const persistingIssuer = await startBareProvider({
      ...bareConfiguration,
      // The token writes go as obkit's do: without waiting for the disk on PostgreSQL (`asyncCommitDb`).
      adapter: persistingAdapter(store.asyncCommitDb),
    });

    const obkitIssuer = platform.urls.browser;
    const obkitToken = `${platform.urls.mtls}/token`;

    function agentFor(connections: number): Agent {
      return new Agent({
        connect: {
          ca: tpp.tls.ca,
          key: tpp.bundle.transportKeyPem,
          cert: tpp.bundle.transportCertificatePem,
        },
        connections,
      });
    }

    /** One token request as a TPP sends it: a fresh client assertion (PS256) and the form, over mTLS. */
    async function tokenRequest(
      agent: Agent,
      issuer: string,
      tokenUrl: string,
      clientId = tpp.clientId,
    ): Promise<void> {
      const assertion = await new SignJWT({
        iss: clientId,
        sub: clientId,
        aud: issuer,
        jti: randomUUID(),
      })
        .setProtectedHeader({ alg: 'PS256', kid })
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(signingKey);
      const response = await request(tokenUrl, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          scope: 'accounts',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
        }).toString(),
      });
      const body = await response.body.text();
      if (response.statusCode !== 200) throw new Error(`${tokenUrl}: ${response.statusCode} ${body}`);
    }

    async function rate(
      label: string,
      concurrency: number,
      issuer: string,
      tokenUrl: string,
    ): Promise<PhaseResult> {
      const agent = agentFor(concurrency);
      try {
        // The new agent's connections (TLS handshakes) outside the timing; the warm-up is the bracket's.
        await Promise.all(Array.from({ length: concurrency }, () => tokenRequest(agent, issuer, tokenUrl)));
        const window = await mainThreadWindow(`${backend} c${concurrency} ${label}`);
        const { done, perSecond } = await closedLoop(concurrency, phaseSeconds, () =>
          tokenRequest(agent, issuer, tokenUrl),
        );
        const { busy, cpu, thread } = await window.stop(done);
        console.log(
          `${label.padEnd(80)} c=${concurrency}  ${perSecond.toFixed(1).padStart(8)} tokens/s (${done} in ${phaseSeconds}s)` +
            `  main thread ${busy.toFixed(2)} ms busy, ${thread.toFixed(2)} ms CPU; process CPU ${cpu.toFixed(2)} ms per token`,
        );
        // The main thread's own CPU (both servers and the client run on it), else the process's.
        return { perSecond, cpuPerOperation: Number.isFinite(thread) ? thread : cpu };
      } finally {
        await agent.close();
      }
    }

    /** A bare provider the obkit figure is bracketed with: its phases' label and issuer. */
    interface BareBaseline {
      name: string;
      issuer: string;
      /** Added to the bracketed figure's name (the in-memory baseline, the goal's, has none). */
      suffix: string;
    }
    const inMemory: BareBaseline = {
      name: 'bare oidc-provider, in-memory adapter (baseline)',
      issuer: bareIssuer,
      suffix: '',
    };
    const persistingBaseline: BareBaseline = {
      name: `bare oidc-provider, SQL adapter in the ${store.backend} store (persisting baseline)`,
      issuer: persistingIssuer,
      suffix: ' / persisting baseline',
    };
    /** obkit ÷ a bare oidc-provider: the median of baseline, obkit, obkit, baseline brackets. */
    async function bracketed(label: string, concurrency: number, baseline = inMemory) {
      const side = (name: string, issuer: string, tokenUrl: string): BracketSide => ({
        label: name,
        measure: (phase) => rate(`${name} (${phase})`, concurrency, issuer, tokenUrl),
      });
      return bracketedRatio(
        `${label}${baseline.suffix} c${concurrency}`,
        side(baseline.name, baseline.issuer, `${baseline.issuer}/token`),
        side(label, obkitIssuer, obkitToken),
        bracketPlan(options),
      );
    }

    console.log(
      `client_credentials, private_key_jwt (PS256) over mTLS, registered client; ${store.backend}; ${phaseSeconds}s per phase`,
    );
    // Statements per token (deterministic one at a time; what 8 in flight together share), warm.
    const counter = countStatements();
    const countingAgent = agentFor(8);
    try {
      const token = () => tokenRequest(countingAgent, obkitIssuer, obkitToken);
      for (let i = 0; i < 20; i++) await token();
      const alone = await statementsPerRequest(counter, token);
      const together = await statementsPerRequest(counter, token, { parallel: 8 });
      const distinct = [...new Set(alone.statements)].map((text) => `\n    ${text}`).join('');
      console.log(
        `statements per token, ${backend}: ${alone.perRequest.toFixed(2)} alone, ` +
          `${together.perRequest.toFixed(2)} with 8 in flight${distinct}`,
      );
    } finally {
      counter.stop();
      await countingAgent.close();
    }
    const label = `obkit platform (${store.backend} store)`;
    const plain = new Map<number, BracketedFigure>();
    const againstPersisting = new Map<number, BracketedFigure>();
    for (const concurrency of options.concurrencies) {
      plain.set(concurrency, await bracketed(label, concurrency));
      againstPersisting.set(concurrency, await bracketed(label, concurrency, persistingBaseline));
    }

    // Cost as work grows: as many more clients registered (rows of the same shape as the DCR one);
    // BENCH_CLIENTS=0 leaves it out.
    const grown = new Map<number, BracketedFigure>();
    if (grownClients > 0) {
      const started = performance.now();
      const grownIds: string[] = [];
      for (let offset = 0; offset < grownClients; offset += 1000) {
        const rows = Array.from({ length: Math.min(1000, grownClients - offset) }, () => {
          const id = randomUUID();
          grownIds.push(id);
          return { model: 'Client', id, payload: { ...registered, client_id: id } };
        });
        await store.db.insert(authModels).values(rows);
      }
      console.log(
        `(${grownClients} more clients registered in ${((performance.now() - started) / 1000).toFixed(1)} s)`,
      );
      for (const concurrency of options.concurrencies)
        grown.set(concurrency, await bracketed(`${label}, ${grownClients} more clients`, concurrency));

      // What each of them holds in memory once it got a token: its registration read and kept by the
      // client cache, its client built by the provider (with its key set, fetched from its jwks_uri as a
      // DCR client's is). The same software's keys for all, each client's copy its own. The first clients
      // also pay what the path costs once (code compiled for it, ~30 MB): the figure is the second half's.
      const before = await heapAfterGc();
      heapSnapshot(backend, 'before-tokens');
      const tokensStarted = performance.now();
      const agent = agentFor(8);
      const half = Math.floor(grownIds.length / 2);
      let middle = before;
      try {
        let next = 0;
        const tokensUpTo = (end: number) =>
          Promise.all(
            Array.from({ length: 8 }, async () => {
              while (next < end) await tokenRequest(agent, obkitIssuer, obkitToken, grownIds[next++]);
            }),
          );
        await tokensUpTo(half);
        middle = await heapAfterGc();
        await tokensUpTo(grownIds.length);
      } finally {
        await agent.close();
      }
      const after = await heapAfterGc();
      heapSnapshot(backend, 'after-tokens');
      const kilobytesEach = (bytes: number, clients: number) => (bytes / clients / 1024).toFixed(1);
      console.log(
        `heap per registered client with a token: ${kilobytesEach(after.heapUsed - middle.heapUsed, grownIds.length - half)} kB ` +
          `(the last ${grownIds.length - half} of ${grownIds.length} clients; all of them ${kilobytesEach(after.heapUsed - before.heapUsed, grownIds.length)} kB; ` +
          `a token each in ${((performance.now() - tokensStarted) / 1000).toFixed(1)} s; ` +
          `heap used after GC ${megabytes(before.heapUsed)} → ${megabytes(middle.heapUsed)} → ${megabytes(after.heapUsed)} MB, ` +
          `outside the heap ${megabytes(before.external)} → ${megabytes(after.external)} MB)`,
      );
    }

    console.log('');
    for (const [concurrency, figure] of plain)
      printRatio(`tokens ${backend} c${concurrency}`, figure.ratio, 0.9, figure);
    // For information (no goal): obkit over a bare provider that persists as well.
    for (const [concurrency, figure] of againstPersisting)
      printRatio(
        `tokens ${backend} c${concurrency} / persisting bare oidc-provider`,
        figure.ratio,
        undefined,
        figure,
      );
    // Medians over medians: each side's own spread is on its `tokens` line and its `bracketed` line.
    for (const [concurrency, figure] of grown)
      printRatio(
        `tokens ${backend} c${concurrency} with ${grownClients} clients / without`,
        figure.ratio / plain.get(concurrency)!.ratio,
        0.5,
      );
  } finally {
    for (const server of bareServers) {
      server.closeAllConnections();
      server.close();
    }
    await bench.close();
  }
}

function sqlClient(clientId: string) {
  return and(eq(authModels.model, 'Client'), eq(authModels.id, clientId));
}
