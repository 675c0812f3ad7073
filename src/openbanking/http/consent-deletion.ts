import type { FastifyInstance } from 'fastify';
import { revoke, type Intent, type RevocationContext } from '../../consent/index.ts';
import { guarded, type Guard } from '../guard/index.ts';
import { asObError } from './intent-errors.ts';

/**
 * `DELETE /…-consents/{ConsentId}`: the TPP that staged a consent ends it (204). `owned` finds the caller's
 * consent of the route's kind and version (anything else is `UK.OBIE.Resource.NotFound`); the revocation
 * refuses a consent already ended with its OB error, and tells `notifyRevoked` so every instance drops the
 * consent's tokens.
 */
export function consentDeletionRoute(
  scope: FastifyInstance,
  path: `/${string}-consents/:ConsentId`,
  preHandler: Guard,
  owned: (clientId: string, consentId: string) => Promise<Intent>,
  revocation: RevocationContext,
): void {
  scope.delete<{ Params: { ConsentId: string } }>(path, { preHandler }, async (request, reply) => {
    const intent = await owned(guarded(request).token.clientId, request.params.ConsentId);
    await revoke(revocation, intent.id, {
      actor: 'tpp',
      detail: `deleted by client ${intent.clientId}`,
    }).catch(asObError);
    return reply.status(204).send();
  });
}
