import { addOperator, OperatorAccountError, sandboxOperator, type NewOperator } from '../operator/index.ts';
import type { Clock } from '../shared/clock.ts';
import type { Config } from './config.ts';
import { Refusal } from './data-dir.ts';
import { openConfiguredStore } from './platform.ts';

/** `obkit operator add`: refused with a reason (exit 1), e.g. the name is taken. */
export class OperatorToolError extends Refusal {
  override name = 'OperatorToolError';
}

/**
 * `obkit operator add NAME --role admin|auditor`: creates the account in the configured store (migrated
 * first) and returns its password and TOTP secret, which are shown this once and stored only hashed.
 */
export async function addOperatorAccount(
  config: Config,
  clock: Clock,
  input: { name: string; role: string },
): Promise<NewOperator> {
  const store = await openConfiguredStore(config);
  try {
    await store.migrate();
    return await addOperator(store.db, clock, { ...input, by: 'cli' });
  } catch (error) {
    if (error instanceof OperatorAccountError)
      throw new OperatorToolError(error.message, { exitCode: error.reason === 'input' ? 2 : 1 });
    throw error;
  } finally {
    await store.close();
  }
}

/** The sandbox admin's login, for the start-up banner. */
export { sandboxOperator };
