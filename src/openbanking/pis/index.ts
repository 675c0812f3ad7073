import type { FastifyInstance } from 'fastify';
import { signedJsonScope } from '../http/jws.ts';
import type { PaymentsContext } from './common.ts';
import { domesticVrps } from '../vrp/domestic-vrp.ts';
import { domesticPayments } from './domestic.ts';
import { filePayments } from './file-payments.ts';
import { futureDatedPayments } from './future-dated.ts';
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
  // Future-dated kinds and file payments: each kind is mounted on the versions that define it.
  futureDatedPayments(scope, context);
  filePayments(scope, context);
}
