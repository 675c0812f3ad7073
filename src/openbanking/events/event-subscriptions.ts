import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  createSubscription,
  deleteSubscription,
  eventTypeNamed,
  subscriptionsOf,
  SubscriptionExistsError,
  updateSubscription,
  type EventSubscription,
  type EventType,
  type SubscriptionInput,
} from '../../events/index.ts';
import { ObError } from '../errors.ts';
import { guard, guarded, guardProfiles } from '../guard/index.ts';
import { requireSignature } from '../http/jws.ts';
import { resourceNotFound, RESOURCE_ID } from '../http/owned-resources.ts';
import { parseBody } from '../pis/validation.ts';
import type { EventsContext } from './context.ts';

/** OBEventSubscription1. */
const subscriptionRequest = z.strictObject({
  Data: z.strictObject({
    CallbackUrl: z.string().min(1).optional(),
    Version: z.string().min(1).max(10),
    EventTypes: z.array(z.string().min(1)).optional(),
  }),
});

/** OBEventSubscriptionResponse1 with its Data.EventSubscriptionId in the path (PUT's body names it too). */
const updateRequest = z.strictObject({
  Data: z.strictObject({
    EventSubscriptionId: z.string().min(1).max(40),
    CallbackUrl: z.string().min(1).optional(),
    Version: z.string().min(1).max(10),
    EventTypes: z.array(z.string().min(1)).optional(),
  }),
  Links: z.unknown().optional(),
  Meta: z.unknown().optional(),
});

/**
 * A callback the bank will call: an absolute https URL (TLS is the profile's "TPP hosted endpoints must be
 * protected using TLS"), without credentials or fragment. The bank appends `/event-notifications`.
 */
function callbackUrlOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw ObError.single(
      400,
      'UK.OBIE.Field.Invalid',
      'CallbackUrl is not an absolute URL',
      'Data.CallbackUrl',
    );
  }
  if (url.protocol !== 'https:')
    throw ObError.single(
      400,
      'UK.OBIE.Field.Invalid',
      'CallbackUrl must be an https URL',
      'Data.CallbackUrl',
    );
  if (url.username || url.password || url.hash)
    throw ObError.single(
      400,
      'UK.OBIE.Field.Invalid',
      'CallbackUrl must carry no credentials and no fragment',
      'Data.CallbackUrl',
    );
  return value;
}

/** EventTypes as OBEventType1Code or event URNs; none (absent) is every type. */
function eventTypesOf(names: readonly string[] | undefined): EventType[] | undefined {
  if (names === undefined) return undefined;
  return [
    ...new Set(
      names.map((name, index) => {
        const type = eventTypeNamed(name);
        if (!type)
          throw ObError.single(
            400,
            'UK.OBIE.Field.Invalid',
            `unknown event type ${name}: give an OBEventType1Code (UK.OB.Resource-Update, UK.OB.Consent-Access-Revoked, UK.OB.Consent-Authorization-Revoked, UK.OB.Account-Access-Consent-Linked-Account-Update; v3.1's UK.OBIE.… too) or its URN`,
            `Data.EventTypes.${index}`,
          );
        return type;
      }),
    ),
  ];
}

function inputOf(data: { CallbackUrl?: string; Version: string; EventTypes?: string[] }): SubscriptionInput {
  return {
    version: data.Version,
    callbackUrl: callbackUrlOf(data.CallbackUrl),
    eventTypes: eventTypesOf(data.EventTypes),
  };
}

function subscriptionData(subscription: EventSubscription) {
  return {
    EventSubscriptionId: subscription.id,
    ...(subscription.callbackUrl ? { CallbackUrl: subscription.callbackUrl } : {}),
    Version: subscription.version,
    ...(subscription.eventTypes ? { EventTypes: subscription.eventTypes } : {}),
  };
}

const clientIdOf = (request: FastifyRequest) => guarded(request).token.clientId;

/** `/event-subscriptions` (POST, GET, PUT, DELETE): one subscription per TPP, with a callback or none to poll. */
export function eventSubscriptionRoutes(scope: FastifyInstance, context: EventsContext): void {
  const { db, clock } = context;
  const base = context.publicBaseUrl;
  const checks = guard(guardProfiles.eventEndpoint(), context.guard);
  const signed = requireSignature(context.signatures, clientIdOf);
  const self = (id?: string) => `${base}/event-subscriptions${id ? `/${id}` : ''}`;

  scope.post('/event-subscriptions', { preHandler: [checks, signed] }, async (request, reply) => {
    const body = parseBody(subscriptionRequest, request.body);
    try {
      const subscription = await createSubscription(
        db,
        clock,
        clientIdOf(request),
        context.version,
        inputOf(body.Data),
      );
      return reply
        .status(201)
        .send({ Data: subscriptionData(subscription), Links: { Self: self(subscription.id) }, Meta: {} });
    } catch (error) {
      if (!(error instanceof SubscriptionExistsError)) throw error;
      throw ObError.single(
        409,
        'UK.OBIE.Rules.ResourceAlreadyExists',
        `this TPP already has event subscription ${error.existingId}: change it with PUT, or DELETE it first`,
      );
    }
  });

  scope.get('/event-subscriptions', { preHandler: checks }, async (request) => {
    const subscriptions = await subscriptionsOf(db, clientIdOf(request));
    return {
      Data: { EventSubscription: subscriptions.map(subscriptionData) },
      Links: { Self: self() },
      Meta: {},
    };
  });

  scope.put<{ Params: { EventSubscriptionId: string } }>(
    '/event-subscriptions/:EventSubscriptionId',
    { preHandler: [checks, signed] },
    async (request) => {
      const id = request.params.EventSubscriptionId;
      const body = parseBody(updateRequest, request.body);
      if (body.Data.EventSubscriptionId !== id)
        throw ObError.single(
          400,
          'UK.OBIE.Field.Invalid',
          'Data.EventSubscriptionId is not the subscription in the path',
          'Data.EventSubscriptionId',
        );
      const updated = RESOURCE_ID.test(id)
        ? await updateSubscription(db, clientIdOf(request), id, inputOf(body.Data))
        : undefined;
      if (!updated) throw resourceNotFound(`no event subscription ${id}`);
      return { Data: subscriptionData(updated), Links: { Self: self(updated.id) }, Meta: {} };
    },
  );

  scope.delete<{ Params: { EventSubscriptionId: string } }>(
    '/event-subscriptions/:EventSubscriptionId',
    { preHandler: checks },
    async (request, reply) => {
      const id = request.params.EventSubscriptionId;
      const deleted = RESOURCE_ID.test(id) && (await deleteSubscription(db, clientIdOf(request), id));
      if (!deleted) throw resourceNotFound(`no event subscription ${id}`);
      return reply.status(204).send();
    },
  );
}
