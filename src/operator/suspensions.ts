import { eq } from 'drizzle-orm';
import type { Clock } from '../shared/clock.ts';
import type { ParticipantStatusChange } from '../shared/participant-status.ts';
import type { Queryable } from '../store/index.ts';
import { participantSuspensions } from '../store/schema/operator.ts';

/**
 * The bank's own suspension of a TPP's organisation. A bank cannot change a participant's status at the
 * Open Banking Directory, but it may stop serving one: the participant status gate consults this beside
 * the directory's status on every registration, token request and API call (src/server/parts.ts), and
 * the change is announced like a directory's (`announce`: every instance drops what it kept, the
 * clients' cached tokens go), so it holds everywhere by the next request.
 */
export interface SuspensionDependencies {
  db: Queryable;
  clock: Clock;
  announce(change: ParticipantStatusChange): Promise<void>;
}

export async function suspendOrganisation(
  deps: SuspensionDependencies,
  orgId: string,
  by: string,
  reason: string,
): Promise<boolean> {
  const inserted = await deps.db
    .insert(participantSuspensions)
    .values({ orgId, suspendedAt: deps.clock.now(), suspendedBy: by, reason })
    .onConflictDoNothing()
    .returning({ orgId: participantSuspensions.orgId });
  await deps.announce({ orgId, status: 'Suspended' });
  return inserted.length === 1;
}

export async function reinstateOrganisation(deps: SuspensionDependencies, orgId: string): Promise<boolean> {
  const deleted = await deps.db
    .delete(participantSuspensions)
    .where(eq(participantSuspensions.orgId, orgId))
    .returning({ orgId: participantSuspensions.orgId });
  await deps.announce({ orgId, status: 'Active' });
  return deleted.length === 1;
}

export interface BankSuspension {
  suspendedAt: Date;
  suspendedBy: string;
  reason: string;
}

/** The bank's suspension of this organisation, if any: what the participant status gate asks. */
export async function bankSuspensionOf(db: Queryable, orgId: string): Promise<BankSuspension | undefined> {
  const [row] = await db.select().from(participantSuspensions).where(eq(participantSuspensions.orgId, orgId));
  return row ? { suspendedAt: row.suspendedAt, suspendedBy: row.suspendedBy, reason: row.reason } : undefined;
}

export async function bankSuspensions(db: Queryable): Promise<Map<string, BankSuspension>> {
  const rows = await db.select().from(participantSuspensions);
  return new Map(
    rows.map((row) => [
      row.orgId,
      { suspendedAt: row.suspendedAt, suspendedBy: row.suspendedBy, reason: row.reason },
    ]),
  );
}
