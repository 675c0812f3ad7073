import { authModels } from '../../../store/schema/auth.ts';
import { str } from '../claims.ts';
import { DcrError } from '../errors.ts';
import { JTI_MODEL } from '../store.ts';
import { need, type DcrCheck } from '../types.ts';

/** The request's `jti` was not used before by this software (kept until the request could no longer be accepted). */
export const requestNotReplayed: DcrCheck = async (context) => {
  const request = need(context, 'request');
  const softwareId = str(need(context, 'ssa'), 'software_id') as string;
  const jti = request['jti'];
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) {
    throw new DcrError('invalid_client_metadata', 'the registration request needs a jti');
  }
  const iat = request['iat'] as number;
  const exp = request['exp'] as number;
  const keepUntil = Math.max(exp, iat + (context.options.requestMaxAgeSeconds ?? 3600)) + context.tolerance;
  const inserted = await context.options.server.store.db
    .insert(authModels)
    .values({
      model: JTI_MODEL,
      id: `${softwareId}:${jti}`,
      payload: { jti, softwareId },
      expiresAt: new Date(keepUntil * 1000),
    })
    .onConflictDoNothing({ target: [authModels.model, authModels.id] })
    .returning({ id: authModels.id });
  if (inserted.length === 0) {
    throw new DcrError('invalid_client_metadata', 'the registration request was already used (jti replayed)');
  }
};
