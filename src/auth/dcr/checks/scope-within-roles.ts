import { stringArray } from '../claims.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

const ROLE_SCOPES: Record<string, string> = {
  AISP: 'accounts',
  PSP_AI: 'accounts',
  PISP: 'payments',
  PSP_PI: 'payments',
  CBPII: 'fundsconfirmations',
  PSP_IC: 'fundsconfirmations',
};

/** A scope is asked for, and every scope is one the software's roles allow (plus `openid`). */
export const scopeWithinRoles: DcrCheck = (context) => {
  const scope = need(context, 'request')['scope'];
  if (typeof scope !== 'string' || scope.trim() === '')
    throw new DcrError('invalid_client_metadata', 'scope is required');
  const roles = stringArray(need(context, 'ssa')['software_roles']) ?? [];
  const allowed = new Set([
    'openid',
    ...roles.map((role) => ROLE_SCOPES[role]).filter((s): s is string => !!s),
  ]);
  const scopes = [...new Set(scope.split(' ').filter(Boolean))];
  const refused = scopes.filter((item) => !allowed.has(item));
  if (refused.length > 0) {
    throw new DcrError(
      'invalid_client_metadata',
      `scope ${refused.join(' ')} is not allowed by the software's roles (${roles.join(', ') || 'none'})`,
    );
  }
  context.client.scopes = scopes;
};
