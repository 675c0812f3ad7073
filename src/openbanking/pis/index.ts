import type { FastifyInstance } from 'fastify';
import { signedJsonScope } from '../http/jws.ts';
import type { PaymentsContext } from './common.ts';
import { domesticVrps } from '../vrp/domestic-vrp.ts';
import { domesticPayments } from './domestic.ts';
import { filePayments } from './file-payments.ts';
import { futureDatedPayments, internationalFutureDatedPayments } from './future-dated.ts';
import { internationalPayments } from './international.ts';

export type { PaymentsContext } from './common.ts';

/**
 * The payment APIs under a version's PIS base path (`/open-banking/v3.1/pisp`, `/open-banking/v4.0/pisp`): request bodies kept raw for their
 * signatures and idempotency hashes, every response signed by the bank.
 */
export async function paymentInitiation(scope: FastifyInstance, context: PaymentsContext): Promise<void> {
  signedJsonScope(scope, context.signer);
  domesticPayments(scope, context);
  internationalPayments(scope, context);
  domesticVrps(scope, context);
  // v4.0 serves domestic, international and VRP payments so far; the other kinds are v3.1.11's until their
  // v4.0 mappings exist.
  if ((context.version ?? 'v3.1.11') !== 'v3.1.11') {
    internationalFutureDatedPayments(scope, context);
    return;
  }
  futureDatedPayments(scope, context);
  filePayments(scope, context);
}
