import { checkPassword, checkTotp, type CredentialPolicy } from '../credentials.ts';
import type { CustomerDirectory } from '../customers.ts';
import type { ConsentContext } from '../intents.ts';
import { field, type Form } from '../../shared/page-kit/index.ts';
import { factorFailureMessage } from './pages.ts';
import { advanceSession, type ConsentSession } from './sessions.ts';

/**
 * The two factors of a PSU login, as every login page (consent journey, dashboard, bank app) runs them:
 * the rules and messages live here; each page only renders the outcome its own way.
 */

export interface LoginDependencies {
  ctx: ConsentContext;
  customers: Pick<CustomerDirectory, 'findCustomerByUsername'>;
  policy: CredentialPolicy;
}

export type StepOutcome =
  /** The session moved on; set the new cookie token (undefined when the session was already gone). */
  | { outcome: 'passed'; token: string | undefined }
  /** Show the form again with `error` (400: not filled in, 401: wrong). */
  | { outcome: 'retry'; status: 400 | 401; error: string; username?: string }
  /** Too many failures: nothing more until `lockedUntil`; `token` restarts the session when set. */
  | { outcome: 'locked'; lockedUntil: Date; token?: string | undefined };

const MAX_USERNAME = 128;
const MAX_PASSWORD = 1024;

/** The password step: the session reaches stage `password` for the customer it names. */
export async function passwordStep(
  deps: LoginDependencies,
  session: ConsentSession,
  form: Form,
): Promise<StepOutcome> {
  const username = (field(form, 'username') ?? '').trim();
  const password = field(form, 'password') ?? '';
  if (!username || !password || username.length > MAX_USERNAME || password.length > MAX_PASSWORD) {
    return {
      outcome: 'retry',
      status: 400,
      error: 'Enter your username and password.',
      username: username.slice(0, MAX_USERNAME),
    };
  }
  const customer = await deps.customers.findCustomerByUsername(username);
  const result = await checkPassword(deps.ctx, { username, customerId: customer?.id, password }, deps.policy);
  if (result.ok && customer)
    return { outcome: 'passed', token: await advanceSession(deps.ctx, session, 'password', customer.id) };
  if (!result.ok && result.reason === 'locked') return { outcome: 'locked', lockedUntil: result.lockedUntil };
  return {
    outcome: 'retry',
    status: 401,
    username,
    error: result.ok ? 'The username or password is wrong.' : factorFailureMessage(result, 'password'),
  };
}

/**
 * The security-code step after the password: the session becomes `authenticated`. A lock sends the
 * session back to the start (the password must be given again once the lock ends).
 */
export async function totpStep(
  deps: Pick<LoginDependencies, 'ctx' | 'policy'>,
  session: ConsentSession & { customerId: string },
  form: Form,
): Promise<StepOutcome> {
  const code = (field(form, 'code') ?? '').replace(/\s/g, '');
  const result = await checkTotp(deps.ctx, session.customerId, code, deps.policy);
  if (result.ok)
    return {
      outcome: 'passed',
      token: await advanceSession(deps.ctx, session, 'authenticated', session.customerId),
    };
  if (result.reason === 'locked')
    return {
      outcome: 'locked',
      lockedUntil: result.lockedUntil,
      token: await advanceSession(deps.ctx, session, 'start', undefined),
    };
  return { outcome: 'retry', status: 401, error: factorFailureMessage(result, 'code') };
}
