import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { DestinationStream } from 'pino';
import { selectParts } from '../../src/server/parts.ts';
import type { Clock } from '../../src/shared/clock.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { connectToBank, type BankConnection } from '../../src/tpp/bank.ts';
import { readBundle, type Bundle, type Role } from '../../src/tpp/bundle.ts';
import { createHttpClient } from '../../src/tpp/http.ts';
import { onboard } from '../../src/tpp/onboard.ts';
import { registerAtBank, type RegisterOptions } from '../../src/tpp/register.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';
import { createTestDatabase } from './store.ts';

/**
 * The whole sandbox on loopback (directory, authorization server, consent app, model bank seeded, APIs),
 * and TPPs onboarded and registered through the SDK over HTTP, as a real TPP would.
 */
export interface Sandbox {
  platform: TestPlatform;
  rootPem: string;
  discoveryUrl: string;
  /**
   * Onboards at the directory and registers at the bank by DCR; the connection is closed with the test.
   * The redirect URI is `https://<name>.example/callback` unless given; `trustAnchor` is recorded as the
   * `tan` of the TPP's request signatures (`onboard --trust-anchor`).
   */
  tpp(name: string, roles?: Role[], register?: TppRegistration): Promise<Tpp>;
}

export type TppRegistration = Pick<RegisterOptions, 'ciba' | 'tokenEndpointAuthMethod'> & {
  redirectUri?: string;
  trustAnchor?: string;
  /** The directory's certificates: Open Banking (OBWAC, OBSEAL; the default) or eIDAS (QWAC, QSealC). */
  certificateProfile?: 'obie' | 'eidas';
};

export interface Tpp {
  bundle: Bundle;
  bank: BankConnection;
  redirectUri: string;
  /** The client the bank registered. */
  clientId: string;
}

/**
 * A deployment as a load balancer runs it, on PostgreSQL (`databaseUrl` names the server): one new database,
 * one data directory (PKI, keys), and instance A started on it; `openInstanceStore` gives each further
 * instance a store of its own (its own connections, so its own LISTEN). Call inside a `describe`: the stores
 * and the data directory are closed and removed after it.
 */
export async function startDeployment(databaseUrl: string, options: { env?: Record<string, string> } = {}) {
  const url = await createTestDatabase(databaseUrl);
  const openInstanceStore = async (): Promise<Store> => {
    const store = await openStore({ backend: 'postgres', url, poolSize: 5 });
    after(() => store.close());
    return store;
  };
  const storeA = await openInstanceStore();
  await storeA.migrate();
  const dataDir = mkdtempSync(join(tmpdir(), 'obkit-deployment-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const instanceA = await startSandbox({ instanceOf: { dataDir, store: storeA }, ...options });
  return { dataDir, storeA, instanceA, openInstanceStore };
}

/** Two instances of one deployment (see `startDeployment`): what one instance does, the other must honour. */
export async function startTwoInstances(databaseUrl: string) {
  const deployment = await startDeployment(databaseUrl);
  const storeB = await deployment.openInstanceStore();
  const instanceB = await startSandbox({ instanceOf: { dataDir: deployment.dataDir, store: storeB } });
  return { ...deployment, storeB, instanceB };
}

/**
 * `store` hearing its notifications only through `listen` (a test's instance that hears late, or not at all):
 * its cache lease too, which hears the announced change versions through the same subscription.
 */
export function hearingThrough(store: Store, listen: Store['listen']): Store {
  return Object.assign(Object.create(store) as Store, {
    listen,
    holdCacheLease: (leaseMs: number, onError?: (error: unknown) => void) =>
      store.holdCacheLease(leaseMs, onError, listen),
  });
}

export async function startSandbox(
  options: {
    clock?: Clock;
    env?: Record<string, string>;
    instanceOf?: { dataDir: string; store: Store };
    logTo?: DestinationStream;
  } = {},
): Promise<Sandbox> {
  const platform = await startTestPlatform({
    parts: selectParts('all'),
    ...(options.instanceOf ? { instanceOf: options.instanceOf } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.logTo ? { logTo: options.logTo } : {}),
  });
  const rootPem = readFileSync(join(platform.dataDir, 'pki', 'root-ca.pem'), 'utf8');
  const discoveryUrl = `${platform.urls.browser}/.well-known/openid-configuration`;
  return {
    platform,
    rootPem,
    discoveryUrl,
    tpp: tppOnboarder({ directoryUrl: platform.urls.browser, discoveryUrl, rootPem }),
  };
}

/**
 * `Sandbox.tpp` for a sandbox reached at `directoryUrl` (one platform, or nginx in front of a cluster):
 * onboards at its directory and registers at its bank by DCR over HTTP, as a real TPP would.
 */
export function tppOnboarder(sandbox: {
  directoryUrl: string;
  discoveryUrl: string;
  rootPem: string;
}): Sandbox['tpp'] {
  const { directoryUrl, discoveryUrl, rootPem } = sandbox;
  const work = mkdtempSync(join(tmpdir(), 'obkit-tpps-'));
  const connections: BankConnection[] = [];
  after(async () => {
    for (const connection of connections) await connection.close();
    rmSync(work, { recursive: true, force: true });
  });
  return async (
    name,
    roles = ['AISP', 'PISP', 'CBPII'],
    { trustAnchor, certificateProfile = 'obie', ...register } = {},
  ) => {
    const outDir = join(work, name);
    const { redirectUri = `https://${name}.example/callback`, ...registerOptions } = register;
    await onboard({
      directoryUrl,
      organisationName: name,
      clientName: name,
      roles,
      redirectUris: [redirectUri],
      certificateProfile,
      outDir,
      trust: [rootPem],
      ...(trustAnchor ? { trustAnchor } : {}),
    });
    const registration = await registerAtBank(readBundle(outDir), {
      discoveryUrl,
      trust: [rootPem],
      ...registerOptions,
    });
    const bundle = readBundle(outDir);
    const bank = await connectToBank(bundle, {
      discoveryUrl,
      trust: [rootPem],
      clientId: registration.clientId,
      ...(registerOptions.tokenEndpointAuthMethod
        ? { authMethod: registerOptions.tokenEndpointAuthMethod }
        : {}),
    });
    connections.push(bank);
    return { bundle, bank, redirectUri, clientId: registration.clientId };
  };
}

/** A browser-side HTTPS client (no client certificate) that trusts the sandbox CA. */
export function browserClient(sandbox: Pick<Sandbox, 'rootPem'>) {
  return createHttpClient({ trust: [sandbox.rootPem] });
}
