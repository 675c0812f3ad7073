import type { FastifyInstance } from 'fastify';
import type { RevocationNotifier } from '../consent/index.ts';
import type { Clock } from '../shared/clock.ts';
import type { ParticipantStatusChange } from '../shared/participant-status.ts';
import type { Store } from '../store/index.ts';
import { seedSandboxOperator } from './accounts.ts';
import { consolePlugin } from './console/plugin.ts';

/** What the console needs from the platform (a subset of the server's PartContext). */
export interface OperatorMountContext {
  config: { sandbox: boolean };
  store: Store;
  clock: Clock;
  operator: FastifyInstance;
  logger: { info(object: object, message: string): void };
}

export interface OperatorPartOptions {
  /** The consent revocation fan-out (the one the customer's dashboard uses). */
  notifyRevoked: RevocationNotifier;
  /** Announces a participant status change to every instance. */
  announceParticipantStatus(change: ParticipantStatusChange): Promise<void>;
}

/**
 * Mounts the operator console on the operator listener, in a scope of its own (its session, CSRF and
 * role checks apply to its routes only). In the sandbox, seeds the documented admin when there is none.
 */
export async function mountOperatorConsole(
  context: OperatorMountContext,
  options: OperatorPartOptions,
): Promise<void> {
  const { store, clock } = context;
  if (context.config.sandbox && (await seedSandboxOperator(store.db, clock))) {
    context.logger.info({ operator: 'admin' }, 'sandbox operator seeded');
  }
  await context.operator.register(async (scope) =>
    consolePlugin(scope, {
      db: store.db,
      clock,
      notifyRevoked: options.notifyRevoked,
      announceParticipantStatus: options.announceParticipantStatus,
    }),
  );
}
