import type { FastifyInstance } from 'fastify';
import { listCustomers } from '../bank/index.ts';
import type { Clock } from '../shared/clock.ts';
import type { Store } from '../store/index.ts';
import { bankApp } from './app/bank-app.ts';
import type { DecoupledBridge } from './app/bank-app-bridge.ts';
import { consentDashboard, type TppDirectory } from './app/dashboard.ts';
import { consentApp } from './app/plugin.ts';
import { bankCustomerDirectory } from './bank-directory.ts';
import {
  DEFAULT_CREDENTIAL_POLICY,
  seedCredentials,
  type CredentialPolicy,
  type SeedCustomer,
} from './credentials.ts';
import type { ConsentChangeNotifier, ConsentContext, RevocationNotifier } from './intents.ts';
import type { InteractionBridge } from './interaction-bridge.ts';

/** What the consent part needs from the platform (a subset of the server's PartContext). */
export interface ConsentMountContext {
  config: { sandbox: boolean };
  store: Pick<Store, 'db'>;
  clock: Clock;
  browser: FastifyInstance;
  logger?: { info(object: object, message: string): void };
}

export interface ConsentDependencies {
  /** From the authorization server (`mountAuthorizationServer(...).bridge`). */
  bridge: InteractionBridge;
  /** The platform's revocation fan-out, for withdrawals in the dashboard. */
  notifyRevoked: RevocationNotifier;
  /** The platform's fan-out of consent changes, for accounts the PSU stops sharing in the dashboard. */
  notifyChanged: ConsentChangeNotifier;
  /** TPP names and logos for the dashboard (from the client store). */
  tpps?: TppDirectory;
  /** From the authorization server: mounts the bank app (`/bank-app`) for decoupled (CIBA) approvals. */
  decoupled?: DecoupledBridge;
}

export interface ConsentPartOptions {
  /** Headless approval for TPP CI. Default: on in the sandbox; refused outside it. */
  headlessApproval?: boolean;
  credentialPolicy?: CredentialPolicy;
  bankName?: string;
}

export interface MountedConsent {
  /** Gives sandbox credentials to bank customers that have none; returns who got them (for the CLI). */
  seedSandboxCredentials(): Promise<SeedCustomer[]>;
}

/**
 * Mounts the consent app at `/interaction/:uid` (where the authorization server sends the browser) and the
 * PSU's consent dashboard at `/dashboard`, both on the browser listener. In the sandbox, every bank customer
 * gets the documented sandbox credentials (`sandbox-<username>`, TOTP secret of `sandboxCredentialsFor`).
 */
export async function mountConsent(
  context: ConsentMountContext,
  dependencies: ConsentDependencies,
  options: ConsentPartOptions = {},
): Promise<MountedConsent> {
  const { config, store, clock } = context;
  if (options.headlessApproval && !config.sandbox) {
    throw new Error('headless approval exists only in the sandbox');
  }
  const customers = bankCustomerDirectory(store.db);
  const credentialPolicy = options.credentialPolicy ?? DEFAULT_CREDENTIAL_POLICY;
  const common = {
    db: store.db,
    clock,
    customers,
    credentialPolicy,
    bankName: options.bankName,
    sandbox: config.sandbox,
  };
  await context.browser.register(consentApp, {
    ...common,
    bridge: dependencies.bridge,
    headlessApproval: options.headlessApproval ?? config.sandbox,
  });
  await context.browser.register(consentDashboard, {
    ...common,
    notifyRevoked: dependencies.notifyRevoked,
    notifyChanged: dependencies.notifyChanged,
    tpps: dependencies.tpps,
  });
  if (dependencies.decoupled) {
    await context.browser.register(bankApp, {
      ...common,
      decoupled: dependencies.decoupled,
      notifyRevoked: dependencies.notifyRevoked,
    });
  }

  const ctx: ConsentContext = { db: store.db, clock };
  async function seedSandboxCredentials(): Promise<SeedCustomer[]> {
    if (!config.sandbox) return [];
    const all = await listCustomers(store.db);
    const seeded = await seedCredentials(
      ctx,
      all.map((customer) => ({ id: customer.id, username: customer.username })),
    );
    if (seeded.length > 0) {
      context.logger?.info({ customers: seeded.map((s) => s.username) }, 'sandbox PSU credentials seeded');
    }
    return seeded.map(({ id, username }) => ({ id, username }));
  }
  await seedSandboxCredentials();
  return { seedSandboxCredentials };
}
