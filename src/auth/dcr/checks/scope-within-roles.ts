import { scopesOfRoles } from '../../../shared/psd2-roles.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/** A scope is asked for, and every scope is one the client's roles allow (plus `openid`). */
export const scopeWithinRoles: DcrCheck = (context) => {
  const scope = need(context, 'request')['scope'];
  if (typeof scope !== 'string' || scope.trim() === '')
    throw new DcrError('invalid_client_metadata', 'scope is required');
  const roles = need(context, 'roles');
  const allowed = new Set<string>(['openid', ...scopesOfRoles(roles)]);
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
