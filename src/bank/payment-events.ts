import { EVENT_TYPES, raiseEvent, type RaisedEvent } from '../events/index.ts';
import type { Queryable } from '../store/index.ts';
import type { LedgerContext } from './ledger.ts';

/** The OB resource type (`http://openbanking.org.uk/rty`) of each payment kind's resource (payments.ts kinds). */
export const PAYMENT_RESOURCE_TYPE: Readonly<Record<string, string>> = {
  domestic: 'domestic-payment',
  'domestic-vrp': 'domestic-vrp',
  'domestic-scheduled': 'domestic-scheduled-payment',
  'domestic-standing-order': 'domestic-standing-order',
  international: 'international-payment',
  'international-scheduled': 'international-scheduled-payment',
  'international-standing-order': 'international-standing-order',
  file: 'file-payment',
};

/**
 * Records, in `tx`, that a TPP's payment resource changed status (OB `resource-update`): a payment paid or
 * rejected, an execution of a scheduled payment or standing order, a file's outcome. The event follows the
 * payment's consent's version, looked up when it is handed out.
 */
export async function raisePaymentUpdate(
  tx: Queryable,
  ctx: LedgerContext,
  payment: { id: string; kind: string; clientId: string },
): Promise<void> {
  await raiseEvent(tx, ctx.clock, paymentUpdate(payment));
}

/** The OB `resource-update` event of a payment resource (`raisePaymentUpdate`). */
export function paymentUpdate(payment: { id: string; kind: string; clientId: string }): RaisedEvent {
  const type = PAYMENT_RESOURCE_TYPE[payment.kind];
  if (!type) throw new Error(`no OB resource type for payment kind ${payment.kind}`);
  return {
    clientId: payment.clientId,
    type: EVENT_TYPES.resourceUpdate,
    subject: { type, id: payment.id, version: undefined },
  };
}
