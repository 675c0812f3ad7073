import { request, type Dispatcher } from 'undici';
import {
  claimDueEvents,
  EVENT_RAISED_CHANNEL,
  nextPushDue,
  recordPushAttempt,
  type ClaimedEvent,
  type PushOutcome,
  type PushRetryPolicy,
} from '../../events/index.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Db } from '../http/idempotency.ts';
import { signedEventToken, type EventTokenContext } from './security-event-token.ts';

/** The longest one attempt waits for the TPP's answer. */
const ATTEMPT_TIMEOUT_MS = 10_000;
/** Events claimed per round; a pass runs rounds until none is due. */
const CLAIM_BATCH = 20;
/** The longest the deliverer sleeps when a retry is due later (a clock moved by hand is seen then). */
const MAX_TIMER_MS = 60_000;

export const DEFAULT_PUSH_POLICY: PushRetryPolicy = {
  maxAttempts: 8,
  backoffMs: 1_000,
  maxBackoffMs: 3_600_000,
  leaseMs: ATTEMPT_TIMEOUT_MS * 3,
};

export interface PushDeliveryDependencies {
  db: Db;
  clock: Clock;
  tokens: EventTokenContext;
  /**
   * What carries the POSTs to a TPP's callback over TLS: the CAs trusted for TPP callbacks, the bank's
   * identity for mutual TLS, and the server identity expected for that TPP (auth's `callbackAgents`).
   */
  dispatcherFor(clientId: string): Promise<Dispatcher> | Dispatcher;
  policy: PushRetryPolicy;
}

/**
 * One attempt: the event's SET, signed now, POSTed to `{callback}/event-notifications` as
 * `application/jwt` (the event-notifications file); the answer is the TPP's status, or the error.
 */
async function attempt(deps: PushDeliveryDependencies, claimed: ClaimedEvent): Promise<PushOutcome> {
  try {
    const token = await signedEventToken(deps.tokens, claimed.event);
    const response = await request(`${claimed.callbackUrl.replace(/\/+$/, '')}/event-notifications`, {
      method: 'POST',
      dispatcher: await deps.dispatcherFor(claimed.event.clientId),
      headers: { 'content-type': 'application/jwt' },
      body: token,
      headersTimeout: ATTEMPT_TIMEOUT_MS,
      bodyTimeout: ATTEMPT_TIMEOUT_MS,
    });
    await response.body.dump();
    return { status: response.statusCode };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Pushes every event due now (by `deps.clock`) once: claims them (each attempt exactly once across
 * instances), POSTs them, records each outcome. Returns how many attempts were made.
 */
export async function deliverDueEvents(deps: PushDeliveryDependencies): Promise<number> {
  let made = 0;
  for (;;) {
    const claimed = await claimDueEvents(deps.db, deps.clock, deps.policy, CLAIM_BATCH);
    if (claimed.length === 0) return made;
    await Promise.all(
      claimed.map(async (event) =>
        recordPushAttempt(deps.db, deps.clock, deps.policy, event, await attempt(deps, event)),
      ),
    );
    made += claimed.length;
  }
}

export interface PushDeliverer {
  /** Runs a pass now (after the one running, if any); resolves when it is done. */
  wake(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The real-time push deliverer of one platform instance: a pass when an event is raised (NOTIFY, from any
 * instance), and a timer for the next retry due. Passes never overlap within an instance; across instances
 * the claim keeps each attempt single.
 */
export async function startPushDelivery(
  deps: PushDeliveryDependencies & {
    listen: (channel: string, handler: () => void) => Promise<() => Promise<void>>;
    onError: (error: unknown) => void;
  },
): Promise<PushDeliverer> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const schedule = async () => {
    const due = await nextPushDue(deps.db, deps.clock);
    if (stopped || !due) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, due.getTime() - deps.clock.now().getTime()));
    clearTimeout(timer);
    timer = setTimeout(() => void wake(), wait);
    timer.unref();
  };
  const pass = async () => {
    if (stopped) return;
    try {
      await deliverDueEvents(deps);
      await schedule();
    } catch (error) {
      deps.onError(error);
    }
  };
  const wake = (): Promise<void> => (running = running.then(pass));
  const unlisten = await deps.listen(EVENT_RAISED_CHANNEL, () => void wake());
  void wake();
  return {
    wake,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await unlisten();
      await running;
    },
  };
}
