import type { FastifyInstance } from 'fastify';
import { signedJsonScope } from '../http/jws.ts';
import type { EventsContext } from './context.ts';
import { eventSubscriptionRoutes } from './event-subscriptions.ts';
import { eventPollingRoutes } from './polling.ts';

export type { EventSigningKey, EventTokenContext } from './security-event-token.ts';
export type { EventsContext } from './context.ts';
export {
  DEFAULT_PUSH_POLICY,
  deliverDueEvents,
  startPushDelivery,
  type PushDeliverer,
  type PushDeliveryDependencies,
} from './push-delivery.ts';

/** The Event Notification APIs a bank serves under a version's root: subscriptions and aggregated polling. */
export async function eventNotificationApis(scope: FastifyInstance, context: EventsContext): Promise<void> {
  signedJsonScope(scope, context.signer);
  eventSubscriptionRoutes(scope, context);
  eventPollingRoutes(scope, context);
}
