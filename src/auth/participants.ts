import { and, eq } from 'drizzle-orm';
import type {
  ParticipantRef,
  ParticipantStatusCheck,
  ParticipantVerdict,
} from '../shared/participant-status.ts';
import type { MaybePromise } from '../shared/maybe-promise.ts';
import type { Queryable } from '../store/index.ts';
import { authModels } from '../store/schema/auth.ts';

/**
 * A registered client's participant at the directory: the `org_id` and `software_id` its SSA named.
 * Undefined for a client that is no directory participant (configured clients).
 */
export function participantOfMetadata(metadata: Record<string, unknown>): ParticipantRef | undefined {
  const orgId = metadata['org_id'];
  const softwareId = metadata['software_id'];
  if (typeof orgId !== 'string') return undefined;
  return { orgId, ...(typeof softwareId === 'string' ? { softwareId } : {}) };
}

/** Whether a client (by id) may be served: its participant's status, for the API guard. */
export interface ClientStatusCheck {
  checkClient(clientId: string): MaybePromise<ParticipantVerdict>;
  /** The clients checked so far that belong to this participant (its organisation, or one software). */
  clientsOf(participant: ParticipantRef): string[];
}

const MAX_KEPT = 50_000;

/**
 * The participant check by client id. Which participant a client is never changes (a client cannot move
 * to another software statement), so that is kept; the status itself comes from `participants`, which
 * keeps it only until the directory announces a change.
 */
export function clientStatusCheck(db: Queryable, participants: ParticipantStatusCheck): ClientStatusCheck {
  const known = new Map<string, ParticipantRef | null>();
  return {
    // A client already known is checked at once (no promise unless the status itself must be read).
    checkClient(clientId) {
      const participant = known.get(clientId);
      if (participant !== undefined) return participant ? participants.check(participant) : { active: true };
      return (async () => {
        const [row] = await db
          .select({ payload: authModels.payload })
          .from(authModels)
          .where(and(eq(authModels.model, 'Client'), eq(authModels.id, clientId)));
        const found = row ? (participantOfMetadata(row.payload as Record<string, unknown>) ?? null) : null;
        // A client not (yet) stored is asked about again next time.
        if (row) {
          if (known.size >= MAX_KEPT) known.delete(known.keys().next().value ?? '');
          known.set(clientId, found);
        }
        return found ? participants.check(found) : { active: true as const };
      })();
    },
    clientsOf(participant) {
      const clients: string[] = [];
      for (const [clientId, known_] of known) {
        if (
          known_ &&
          known_.orgId === participant.orgId &&
          (participant.softwareId === undefined || known_.softwareId === participant.softwareId)
        )
          clients.push(clientId);
      }
      return clients;
    },
  };
}
