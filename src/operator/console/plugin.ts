import type { FastifyInstance } from 'fastify';
import { auditLog } from './audit-log.ts';
import { consentPage, consentSearch, revokePosted } from './consents.ts';
import { loginPage, loginPosted, logoutPosted } from './login.ts';
import { miPage } from './mi.ts';
import { CONSOLE_BASE, CONSOLE_STYLESHEET } from './pages.ts';
import { paymentSearch } from './payments.ts';
import { consoleScope, type ConsoleDependencies } from './scope.ts';
import { reinstatePosted, suspendPosted, tppList, tppPage } from './tpps.ts';

export { OPERATOR_COOKIE, operatorOf, type ConsoleDependencies } from './scope.ts';

/**
 * The operator console under `/console` on the operator listener:
 *
 *   GET  /console/login, POST /console/login (name, password, TOTP code), POST /console/logout
 *   GET  /console/tpps[?q=]             organisations, software, clients, certificates, status
 *   GET  /console/tpps/:orgId           details; POST …/suspend, …/reinstate (admin)
 *   GET  /console/consents[?customer=&tpp=&kind=&status=&from=&to=]
 *   GET  /console/consents/:id          details and history; POST …/revoke (admin)
 *   GET  /console/payments[?status=&tpp=&customer=&from=&to=]
 *   GET  /console/mi[?days=]            OB MI: availability and response times per API per day
 *   GET  /console/audit[?q=]            the audit log (read only: there is no route that changes it)
 *
 * Every page but the login needs a session; every form carries the CSRF token (src/shared/page-security);
 * every POST that acts needs the `admin` role, checked before the handler runs — an auditor's is refused
 * with 403 and recorded. What the routes share is in scope.ts.
 */
export async function consolePlugin(app: FastifyInstance, deps: ConsoleDependencies): Promise<void> {
  const scope = await consoleScope(app, deps);
  const at = (path: string) => `${CONSOLE_BASE}${path}`;
  const open = { config: { operatorPublic: true } };
  const login = { config: { operatorPublic: true, throttle: 'login' as const } };
  const admin = { config: { operatorRole: 'admin' as const } };

  app.get(at('/assets/console.css'), open, async (_request, reply) =>
    reply
      .type('text/css; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(CONSOLE_STYLESHEET),
  );
  app.get(CONSOLE_BASE, async (_request, reply) => scope.redirect(reply, at('/tpps')));
  app.get(at('/login'), login, loginPage(scope));
  app.post(at('/login'), login, loginPosted(scope));
  app.post(at('/logout'), logoutPosted(scope));
  app.get(at('/tpps'), tppList(scope));
  app.get(at('/tpps/:orgId'), tppPage(scope));
  app.post(at('/tpps/:orgId/suspend'), admin, suspendPosted(scope));
  app.post(at('/tpps/:orgId/reinstate'), admin, reinstatePosted(scope));
  app.get(at('/consents'), consentSearch(scope));
  app.get(at('/consents/:id'), consentPage(scope));
  app.post(at('/consents/:id/revoke'), admin, revokePosted(scope));
  app.get(at('/payments'), paymentSearch(scope));
  app.get(at('/mi'), miPage(scope));
  app.get(at('/audit'), auditLog(scope));
}
