import type { FastifyInstance } from 'fastify';
import { cancelPosted, decisionPosted } from './interaction/decision.ts';
import { passwordPosted, totpPosted } from './interaction/login.ts';
import { headlessGate, sandboxApprove } from './interaction/sandbox-approve.ts';
import { interactionScope, type ConsentAppOptions } from './interaction/scope.ts';
import { notFoundPage, stepPage } from './interaction/step-page.ts';

export { SESSION_COOKIE, type ConsentAppOptions } from './interaction/scope.ts';

/**
 * The consent app: a fastify plugin serving the PSU's side of an authorization, as Ory Hydra's login and
 * consent app does (the authorization server renders nothing). Its routes, under `<mountPath>`:
 *
 *   GET  /:uid                  login → TOTP → the intent in plain words with account selection
 *   POST /:uid/login            username + password
 *   POST /:uid/totp             the TOTP code; on success the bridge finishes the login prompt
 *   POST /:uid/consent          approve (with accounts) or reject; the bridge finishes or aborts
 *   POST /:uid/cancel           back to the TPP with access_denied
 *   POST /:uid/sandbox-approve  headless approval for a TPP's CI (404 unless `headlessApproval`)
 *
 * Every page is built with the page kit (src/shared/page-kit): its headers, the CSRF token checked before
 * any handler, errors as pages. The session cookie is per interaction (`Path=<mountPath>/<uid>`), Secure,
 * HttpOnly, SameSite=Lax. What the routes share is in interaction/scope.ts.
 */
export async function consentApp(app: FastifyInstance, options: ConsentAppOptions): Promise<void> {
  const scope = await interactionScope(app, options);
  const at = (path: string) => `${scope.mount}${path}`;
  const login = { config: { throttle: 'login' as const } };

  app.get(at('/:uid'), stepPage(scope));
  app.post(at('/:uid/login'), login, passwordPosted(scope));
  app.post(at('/:uid/totp'), login, totpPosted(scope));
  app.post(at('/:uid/consent'), decisionPosted(scope));
  app.post(at('/:uid/cancel'), cancelPosted(scope));
  app.post(at('/:uid/sandbox-approve'), { onRequest: headlessGate(scope) }, sandboxApprove(scope));
  app.all(at('/*'), notFoundPage(scope));
}
