import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  acknowledgeEvents,
  pendingEvents,
  purgeExpiredEvents,
  recordEventErrors,
} from '../../events/index.ts';
import { guard, guarded, guardProfiles } from '../guard/index.ts';
import { parseBody } from '../pis/validation.ts';
import type { EventsContext } from './context.ts';
import { signedEventToken } from './security-event-token.ts';

/** The most events one poll hands out (the profile leaves the upper bound to the ASPSP; README says it). */
export const MAX_EVENTS_PER_POLL = 100;

/** OBEventPolling1. */
const pollingRequest = z.strictObject({
  maxEvents: z.number().int().min(0).optional(),
  returnImmediately: z.boolean().optional(),
  ack: z.array(z.string().min(1).max(128)).optional(),
  setErrs: z
    .record(
      z.string().min(1).max(128),
      z.strictObject({ err: z.string().min(1).max(40), description: z.string().min(1).max(256) }),
    )
    .optional(),
});

/**
 * Aggregated polling, `POST /events` (Aggregated Polling profile, RFC 8936): first the TPP's
 * acknowledgements (`ack`) and errors (`setErrs`) are recorded, then up to `maxEvents` of its pending
 * events are handed out as signed SETs (0: acknowledge only), with `moreAvailable`. Only the caller's own
 * events are ever read, acknowledged or reported on. Long polling is optional in the profile and not
 * offered: the answer is always immediate (`returnImmediately` is accepted either way).
 */
export function eventPollingRoutes(scope: FastifyInstance, context: EventsContext): void {
  const { db, clock } = context;
  scope.post(
    '/events',
    { preHandler: guard(guardProfiles.eventEndpoint(), context.guard) },
    async (request) => {
      const clientId = guarded(request).token.clientId;
      const body = parseBody(pollingRequest, request.body);
      await acknowledgeEvents(db, clock, clientId, body.ack ?? []);
      await recordEventErrors(db, clock, clientId, body.setErrs ?? {});
      await purgeExpiredEvents(db, clock, clientId);
      const limit = Math.min(body.maxEvents ?? MAX_EVENTS_PER_POLL, MAX_EVENTS_PER_POLL);
      const { events, moreAvailable } = await pendingEvents(db, clock, clientId, limit);
      const sets: Record<string, string> = {};
      for (const event of events) sets[event.id] = await signedEventToken(context.tokens, event);
      return { moreAvailable, sets };
    },
  );
}
