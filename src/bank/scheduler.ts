/**
 * The payment scheduler: runs `runDuePayments` (scheduled payments and standing orders due at the clock's
 * now) every `intervalMs`, never two runs at once in one process; several instances may run it together
 * (rows are claimed with `skip locked`, postings carry unique origins). `runNow` runs one pass at once —
 * what tests and the sandbox do after moving the clock.
 */
import { eq, like, asc } from 'drizzle-orm';
import type { Queryable } from '../store/index.ts';
import { schema } from '../store/index.ts';
import type { ScheduledPayment, StandingOrder } from './customers.ts';
import type { LedgerContext } from './ledger.ts';
import { runDuePayments, type ExecutionOutcome } from './schedules.ts';

const { bankEntries, bankScheduledPayments, bankStandingOrders } = schema;

export interface PaymentScheduler {
  runNow(): Promise<ExecutionOutcome[]>;
  stop(): Promise<void>;
}

export interface SchedulerOptions {
  /** Default one minute. */
  intervalMs?: number;
  onOutcomes?(outcomes: ExecutionOutcome[]): void;
  onError?(error: unknown): void;
}

export function startPaymentScheduler(
  db: Queryable,
  ctx: LedgerContext,
  options: SchedulerOptions = {},
): PaymentScheduler {
  let running: Promise<ExecutionOutcome[]> | undefined;
  let stopped = false;
  const pass = (): Promise<ExecutionOutcome[]> => {
    running ??= runDuePayments(db, ctx)
      .then((outcomes) => {
        if (outcomes.length > 0) options.onOutcomes?.(outcomes);
        return outcomes;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => {
    if (stopped) return;
    pass().catch((error: unknown) => options.onError?.(error));
  }, options.intervalMs ?? 60_000);
  timer.unref();
  return {
    async runNow() {
      // A pass already under way may have started before the caller's change: wait for it, then run.
      if (running) await running.catch(() => undefined);
      return pass();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (running) await running.catch(() => undefined);
    },
  };
}

export async function getScheduledPayment(db: Queryable, id: string): Promise<ScheduledPayment | undefined> {
  const [row] = await db.select().from(bankScheduledPayments).where(eq(bankScheduledPayments.id, id));
  return row;
}

export async function getStandingOrder(db: Queryable, id: string): Promise<StandingOrder | undefined> {
  const [row] = await db.select().from(bankStandingOrders).where(eq(bankStandingOrders.id, id));
  return row;
}

/** The posting sets a standing order made, in order (origin `standing-order:<id>:<n>`). */
export async function standingOrderEntries(
  db: Queryable,
  id: string,
): Promise<{ id: string; origin: string | null; status: string; bookedAt: Date }[]> {
  return db
    .select({
      id: bankEntries.id,
      origin: bankEntries.origin,
      status: bankEntries.status,
      bookedAt: bankEntries.bookedAt,
    })
    .from(bankEntries)
    .where(like(bankEntries.origin, `standing-order:${id.replace(/[%_\\]/g, '\\$&')}:%`))
    .orderBy(asc(bankEntries.seq));
}
