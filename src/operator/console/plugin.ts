import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  getIntent,
  INTENT_KINDS,
  INTENT_STATUSES,
  IntentTransitionError,
  KIND_INFO,
  listAudit,
  revoke,
  type RevocationNotifier,
} from '../../consent/index.ts';
import {
  appendSetCookie,
  csrfToken,
  installPageKit,
  PAGE_SECURITY_SECRET_SETTING,
  readCookie,
  field,
  html,
  type Form,
} from '../../shared/page-kit/index.ts';
import type { Clock } from '../../shared/clock.ts';
import type { ParticipantStatusChange } from '../../shared/participant-status.ts';
import { loadOrCreateSecret, type Queryable } from '../../store/index.ts';
import { checkOperatorLogin, type Operator } from '../accounts.ts';
import { appendAudit, readAudit } from '../audit.ts';
import { miCharts } from '../mi/charts.ts';
import { readMiDays } from '../mi/report.ts';
import { searchConsents, searchPayments, tppDetails, listTpps } from '../queries.ts';
import {
  endOperatorSession,
  operatorOfSession,
  OPERATOR_SESSION_SECONDS,
  startOperatorSession,
} from '../sessions.ts';
import { reinstateOrganisation, suspendOrganisation } from '../suspensions.ts';
import {
  CONSOLE_BASE,
  CONSOLE_STYLESHEET,
  consoleLayout,
  csrfField,
  loginBody,
  statusBadge,
  when,
} from './pages.ts';

/**
 * The operator console under `/console` on the operator listener:
 *
 *   GET  /console/login, POST /console/login (name, password, TOTP code), POST /console/logout
 *   GET  /console/tpps[?q=]             organisations, software, clients, certificates, status
 *   GET  /console/tpps/:orgId           details; POST …/suspend, …/reinstate (admin)
 *   GET  /console/consents[?customer=&tpp=&kind=&status=&from=&to=]
 *   GET  /console/consents/:id          details and history; POST …/revoke (admin)
 *   GET  /console/payments[?status=&tpp=&customer=&from=&to=]
 *   GET  /console/audit[?q=]            the audit log (read only: there is no route that changes it)
 *
 * Every page but the login needs a session; every form carries the CSRF token (src/shared/page-security);
 * every POST that acts needs the `admin` role, checked before the handler runs — an auditor's is refused
 * with 403 and recorded.
 */
export interface ConsoleDependencies {
  db: Queryable;
  clock: Clock;
  /** The consent revocation fan-out the customer's dashboard uses: tokens die on every instance. */
  notifyRevoked: RevocationNotifier;
  /** Announces a participant status change to every instance (caches and tokens of its clients dropped). */
  announceParticipantStatus(change: ParticipantStatusChange): Promise<void>;
}

export const OPERATOR_COOKIE = '__Host-obkit-operator';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** On the console: the role a route needs (`admin` to act); absent, any signed-in operator. */
    operatorRole?: 'admin';
    /** On the console: served without a session (the login page, the stylesheet). */
    operatorPublic?: boolean;
  }
}

const operators = new WeakMap<FastifyRequest, Operator>();

/** The signed-in operator of a console request (every route but the public ones has one). */
export function operatorOf(request: FastifyRequest): Operator {
  const operator = operators.get(request);
  if (!operator) throw new Error('operatorOf: not a signed-in console route');
  return operator;
}

export async function consolePlugin(app: FastifyInstance, deps: ConsoleDependencies): Promise<void> {
  const { db, clock } = deps;
  const page = (reply: FastifyReply, status: number, title: string, body: ReturnType<typeof html>) =>
    reply
      .code(status)
      .type('text/html; charset=utf-8')
      .send(consoleLayout(operators.get(reply.request), csrfToken(reply), title, body));
  const redirect = (reply: FastifyReply, to: string) => reply.code(303).header('location', to).send();
  const refused = (reply: FastifyReply, message: string) =>
    page(reply, 403, 'Not allowed', html`<p class="error" role="alert">${message}</p>`);
  const audit = (
    request: FastifyRequest,
    record: Omit<Parameters<typeof appendAudit>[2], 'actor' | 'address'>,
  ) =>
    appendAudit(db, clock, { actor: `operator:${operatorOf(request).name}`, address: request.ip, ...record });

  // Every problem (CSRF refusal, database down, unreadable request, failure) is a console page.
  installPageKit(app, {
    name: 'operator console',
    secret: await loadOrCreateSecret(db, PAGE_SECURITY_SECRET_SETTING),
    problem: (_request, reply, problem) => {
      switch (problem.kind) {
        case 'form-expired':
          return refused(
            reply,
            'This form has expired or did not come from the console. Go back, reload the page and try again.',
          );
        case 'unavailable':
          return page(
            reply,
            503,
            'Unavailable',
            html`<p class="error" role="alert">The database cannot be reached. Try again in a moment.</p>`,
          );
        case 'bad-request':
          return page(
            reply,
            problem.status,
            'Bad request',
            html`<p class="error" role="alert">The request could not be read.</p>`,
          );
        default:
          return page(
            reply,
            500,
            'Something went wrong',
            html`<p class="error" role="alert">The console failed to answer; the log has the details.</p>`,
          );
      }
    },
  });

  // Who is asking, before anything else: without a session, pages send to the login and forms are refused.
  app.addHook('preHandler', async (request, reply) => {
    const config = request.routeOptions.config;
    if (config.operatorPublic) return;
    const operator = await operatorOfSession(db, clock, readCookie(request.headers.cookie, OPERATOR_COOKIE));
    if (!operator) {
      if (request.method === 'GET' || request.method === 'HEAD')
        return redirect(reply, `${CONSOLE_BASE}/login`);
      return refused(reply, 'Your session has ended. Log in again.');
    }
    operators.set(request, operator);
    if (config.operatorRole === 'admin' && operator.role !== 'admin') {
      request.log.info(
        { operator: operator.name, path: request.url },
        'console action refused: not an admin',
      );
      await audit(request, {
        action: 'operator.refused',
        subject: request.url.split('?')[0] ?? '',
        detail: { method: request.method, role: operator.role },
      });
      return refused(reply, `Your role (${operator.role}) may read but not act.`);
    }
  });

  app.get(
    `${CONSOLE_BASE}/assets/console.css`,
    { config: { operatorPublic: true } },
    async (_request, reply) =>
      reply
        .type('text/css; charset=utf-8')
        .header('cache-control', 'public, max-age=3600')
        .send(CONSOLE_STYLESHEET),
  );
  app.get(CONSOLE_BASE, async (_request, reply) => redirect(reply, `${CONSOLE_BASE}/tpps`));

  app.get(
    `${CONSOLE_BASE}/login`,
    { config: { operatorPublic: true, throttle: 'login' } },
    async (_request, reply) => page(reply, 200, 'Log in', loginBody({ csrf: csrfToken(reply) })),
  );
  app.post(
    `${CONSOLE_BASE}/login`,
    { config: { operatorPublic: true, throttle: 'login' } },
    async (request, reply) => {
      const form = request.body as Form;
      const name = (field(form, 'name') ?? '').trim().toLowerCase();
      const result = await checkOperatorLogin(db, clock, {
        name,
        password: field(form, 'password') ?? '',
        code: field(form, 'code') ?? '',
        address: request.ip,
      });
      if (!result.ok) {
        const error =
          result.reason === 'locked'
            ? `Too many failed logins: this account is locked until ${when(result.lockedUntil)}.`
            : 'The name, password or code is not right.';
        return page(
          reply,
          result.reason === 'locked' ? 423 : 401,
          'Log in',
          loginBody({ csrf: csrfToken(reply), error, name }),
        );
      }
      const token = await startOperatorSession(db, clock, result.operator);
      appendSetCookie(
        reply.raw,
        `${OPERATOR_COOKIE}=${token}; Path=/; Max-Age=${OPERATOR_SESSION_SECONDS}; Secure; HttpOnly; SameSite=Strict`,
      );
      return redirect(reply, `${CONSOLE_BASE}/tpps`);
    },
  );
  app.post(`${CONSOLE_BASE}/logout`, async (request, reply) => {
    await endOperatorSession(db, readCookie(request.headers.cookie, OPERATOR_COOKIE));
    await audit(request, { action: 'operator.logout' });
    appendSetCookie(reply.raw, `${OPERATOR_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict`);
    return redirect(reply, `${CONSOLE_BASE}/login`);
  });

  const isAdmin = (request: FastifyRequest) => operatorOf(request).role === 'admin';

  app.get(`${CONSOLE_BASE}/tpps`, async (request, reply) => {
    const q = text((request.query as Record<string, unknown>)['q']);
    const tpps = await listTpps(db, q);
    return page(
      reply,
      200,
      'TPPs',
      html`<form class="search" method="get" action="${CONSOLE_BASE}/tpps">
          <label for="q"
            >Organisation, name or client id <input type="text" id="q" name="q" value="${q}"
          /></label>
          <button type="submit">Search</button>
        </form>
        <table class="list">
          <thead>
            <tr>
              <th>Organisation</th>
              <th>Id</th>
              <th>Clients</th>
              <th>Directory</th>
              <th>At this bank</th>
            </tr>
          </thead>
          <tbody>
            ${tpps.map(
              (tpp) =>
                html`<tr>
                  <td><a href="${CONSOLE_BASE}/tpps/${encodeURIComponent(tpp.orgId)}">${tpp.name}</a></td>
                  <td><code>${tpp.orgId}</code></td>
                  <td>${tpp.clients.length}</td>
                  <td>${tpp.directoryStatus ?? '—'}</td>
                  <td>${tpp.suspension ? statusBadge('Suspended', false) : statusBadge('Served', true)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        ${tpps.length === 0 ? html`<p>No TPP matches.</p>` : ''}`,
    );
  });

  app.get(`${CONSOLE_BASE}/tpps/:orgId`, async (request, reply) => {
    const { orgId } = request.params as { orgId: string };
    const tpp = await tppDetails(db, orgId);
    if (!tpp)
      return page(reply, 404, 'No such TPP', html`<p>No TPP with organisation id <code>${orgId}</code>.</p>`);
    const csrf = csrfToken(reply);
    const action = (path: string, label: string, extra = html``) =>
      html`<form method="post" action="${CONSOLE_BASE}/tpps/${encodeURIComponent(orgId)}/${path}">
        ${csrfField(csrf)} ${extra}<button type="submit">${label}</button>
      </form>`;
    return page(
      reply,
      200,
      tpp.name,
      html`<dl class="facts">
          <div>
            <dt>Organisation id</dt>
            <dd><code>${tpp.orgId}</code></dd>
          </div>
          <div>
            <dt>At the directory</dt>
            <dd>${tpp.directoryStatus ?? 'not this bank’s directory'}</dd>
          </div>
          <div>
            <dt>At this bank</dt>
            <dd id="bank-status">
              ${
                tpp.suspension
                  ? html`${statusBadge('Suspended', false)} by ${tpp.suspension.suspendedBy} on
                    ${when(tpp.suspension.suspendedAt)}: ${tpp.suspension.reason}`
                  : statusBadge('Served', true)
              }
            </dd>
          </div>
        </dl>
        ${
          isAdmin(request)
            ? tpp.suspension
              ? action('reinstate', 'Reinstate')
              : action(
                  'suspend',
                  'Suspend',
                  html`<label for="reason">Reason</label
                    ><input type="text" id="reason" name="reason" required maxlength="200" />`,
                )
            : ''
        }
        <h2>Registered clients</h2>
        <table class="list">
          <thead>
            <tr>
              <th>Client</th>
              <th>Client id</th>
              <th>Software</th>
              <th>Roles</th>
            </tr>
          </thead>
          <tbody>
            ${tpp.clients.map(
              (client) =>
                html`<tr>
                  <td>${client.name}</td>
                  <td><code>${client.clientId}</code></td>
                  <td><code>${client.softwareId ?? '—'}</code></td>
                  <td>${client.roles.join(', ')}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        <h2>Software statements</h2>
        <table class="list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Software id</th>
              <th>Roles</th>
              <th>Mode</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            ${tpp.software.map(
              (software) =>
                html`<tr>
                  <td>${software.name}</td>
                  <td><code>${software.id}</code></td>
                  <td>${software.roles.join(', ')}</td>
                  <td>${software.mode}</td>
                  <td>${software.status}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        <h2>Certificates</h2>
        <table class="list">
          <thead>
            <tr>
              <th>Type</th>
              <th>Key id</th>
              <th>Serial</th>
              <th>Expires</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            ${tpp.certificates.map(
              (certificate) =>
                html`<tr>
                  <td>${certificate.type}</td>
                  <td><code>${certificate.kid}</code></td>
                  <td><code>${certificate.serialNumber}</code></td>
                  <td>${when(certificate.notAfter)}</td>
                  <td>
                    ${certificate.status}${certificate.revocationReason ? ` (${certificate.revocationReason})` : ''}
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>`,
    );
  });

  const suspensionDeps = { db, clock, announce: deps.announceParticipantStatus };
  app.post(
    `${CONSOLE_BASE}/tpps/:orgId/suspend`,
    { config: { operatorRole: 'admin' } },
    async (request, reply) => {
      const { orgId } = request.params as { orgId: string };
      const reason = (field(request.body as Form, 'reason') ?? '').trim().slice(0, 200);
      if (!(await tppDetails(db, orgId)))
        return page(
          reply,
          404,
          'No such TPP',
          html`<p>No TPP with organisation id <code>${orgId}</code>.</p>`,
        );
      if (!reason)
        return page(
          reply,
          400,
          'Suspend',
          html`<p class="error" role="alert">Say why the TPP is suspended.</p>`,
        );
      const changed = await suspendOrganisation(suspensionDeps, orgId, operatorOf(request).name, reason);
      if (changed)
        await audit(request, {
          action: 'participant.suspended',
          subject: `org:${orgId}`,
          detail: { reason },
        });
      return redirect(reply, `${CONSOLE_BASE}/tpps/${encodeURIComponent(orgId)}`);
    },
  );
  app.post(
    `${CONSOLE_BASE}/tpps/:orgId/reinstate`,
    { config: { operatorRole: 'admin' } },
    async (request, reply) => {
      const { orgId } = request.params as { orgId: string };
      const changed = await reinstateOrganisation(suspensionDeps, orgId);
      if (changed) await audit(request, { action: 'participant.reinstated', subject: `org:${orgId}` });
      return redirect(reply, `${CONSOLE_BASE}/tpps/${encodeURIComponent(orgId)}`);
    },
  );

  app.get(`${CONSOLE_BASE}/consents`, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const search = {
      customer: text(query['customer']),
      tpp: text(query['tpp']),
      kind: text(query['kind']),
      status: text(query['status']),
      from: text(query['from']),
      to: text(query['to']),
    };
    const from = dateOf(search.from);
    const to = dateOf(search.to);
    const bad = (search.from && !from) || (search.to && !to);
    const rows = bad
      ? []
      : await searchConsents(db, {
          ...(search.customer ? { customer: search.customer } : {}),
          ...(search.tpp ? { tpp: search.tpp } : {}),
          ...(search.kind ? { kind: search.kind } : {}),
          ...(search.status ? { status: search.status } : {}),
          ...(from ? { from } : {}),
          ...(to ? { to } : {}),
        });
    const select = (name: string, label: string, values: readonly string[], chosen: string) =>
      html`<label for="${name}"
        >${label}
        <select id="${name}" name="${name}">
          <option value="">any</option>
          ${values.map((value) => html`<option value="${value}" ${value === chosen ? html`selected` : ''}>${value}</option>`)}
        </select></label
      >`;
    return page(
      reply,
      bad ? 400 : 200,
      'Consents',
      html`<form class="search" method="get" action="${CONSOLE_BASE}/consents">
          <label for="customer"
            >Customer <input type="text" id="customer" name="customer" value="${search.customer}"
          /></label>
          <label for="tpp">TPP <input type="text" id="tpp" name="tpp" value="${search.tpp}" /></label>
          ${select('kind', 'Kind', INTENT_KINDS, search.kind)}
          ${select('status', 'Status', INTENT_STATUSES, search.status)}
          <label for="from">From <input type="date" id="from" name="from" value="${search.from}" /></label>
          <label for="to">To <input type="date" id="to" name="to" value="${search.to}" /></label>
          <button type="submit">Search</button>
        </form>
        ${bad ? html`<p class="error" role="alert">Dates are YYYY-MM-DD.</p>` : ''}
        <table class="list">
          <thead>
            <tr>
              <th>Consent</th>
              <th>Kind</th>
              <th>Status</th>
              <th>TPP</th>
              <th>Customer</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (row) =>
                html`<tr>
                  <td>
                    <a href="${CONSOLE_BASE}/consents/${encodeURIComponent(row.id)}"
                      ><code>${row.id}</code></a
                    >
                  </td>
                  <td>${row.kind}</td>
                  <td>${row.status}</td>
                  <td>${row.tppName}</td>
                  <td>${row.customer ?? '—'}</td>
                  <td>${when(row.createdAt)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        ${rows.length === 0 && !bad ? html`<p>No consent matches.</p>` : ''}`,
    );
  });

  app.get(`${CONSOLE_BASE}/consents/:id`, async (request, reply) => {
    const { id } = request.params as { id: string };
    const intent = await getIntent(db, id);
    if (!intent) return page(reply, 404, 'No such consent', html`<p>No consent <code>${id}</code>.</p>`);
    const history = await listAudit(db, id);
    const [row] = await searchConsents(db, {}, 1_000).then((all) => all.filter((c) => c.id === id));
    const revocable =
      KIND_INFO[intent.kind].revocable &&
      (intent.status === 'Authorised' || intent.status === 'AwaitingAuthorisation');
    return page(
      reply,
      200,
      `Consent ${intent.id}`,
      html`<dl class="facts">
          <div>
            <dt>Kind</dt>
            <dd>${intent.kind}</dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd id="consent-status">${intent.status}</dd>
          </div>
          <div>
            <dt>TPP</dt>
            <dd>${row?.tppName ?? intent.clientId} (<code>${intent.clientId}</code>)</dd>
          </div>
          <div>
            <dt>Customer</dt>
            <dd>${row?.customer ?? intent.customerId ?? '—'}</dd>
          </div>
          <div>
            <dt>Permissions</dt>
            <dd>${intent.permissions.join(', ') || '—'}</dd>
          </div>
          <div>
            <dt>Accounts</dt>
            <dd>${intent.accountIds.join(', ') || '—'}</dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>${when(intent.createdAt)}</dd>
          </div>
          <div>
            <dt>Expires</dt>
            <dd>${when(intent.expiresAt)}</dd>
          </div>
          <div>
            <dt>Last used</dt>
            <dd>${when(intent.lastUsedAt)}</dd>
          </div>
        </dl>
        ${
          isAdmin(request) && revocable
            ? html`<form
                method="post"
                action="${CONSOLE_BASE}/consents/${encodeURIComponent(intent.id)}/revoke"
              >
                ${csrfField(csrfToken(reply))}
                <label for="reason">Reason</label
                ><input type="text" id="reason" name="reason" required maxlength="200" />
                <button type="submit">Revoke</button>
              </form>`
            : ''
        }
        <table class="list history">
          <caption>
            <h2>History</h2>
          </caption>
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>What</th>
              <th>Status</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            ${history.map(
              (entry) =>
                html`<tr>
                  <td>${when(entry.at)}</td>
                  <td>${entry.actor}</td>
                  <td>${entry.event}</td>
                  <td>${entry.from ?? ''}${entry.to ? ` → ${entry.to}` : ''}</td>
                  <td>${entry.detail ?? ''}</td>
                </tr>`,
            )}
          </tbody>
        </table>`,
    );
  });

  app.post(
    `${CONSOLE_BASE}/consents/:id/revoke`,
    { config: { operatorRole: 'admin' } },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const reason = (field(request.body as Form, 'reason') ?? '').trim().slice(0, 200);
      if (!reason)
        return page(
          reply,
          400,
          'Revoke',
          html`<p class="error" role="alert">Say why the consent is revoked.</p>`,
        );
      const operator = operatorOf(request);
      try {
        // The path the customer's dashboard takes: stored, the TPP's event raised, every token killed everywhere.
        await revoke({ db, clock, notifyRevoked: deps.notifyRevoked }, id, {
          actor: 'system',
          detail: `revoked by operator ${operator.name} in the console: ${reason}`,
        });
      } catch (error) {
        if (!(error instanceof IntentTransitionError)) throw error;
        return page(reply, 409, 'Cannot revoke', html`<p class="error" role="alert">${error.message}</p>`);
      }
      await audit(request, { action: 'consent.revoked', subject: `consent:${id}`, detail: { reason } });
      return redirect(reply, `${CONSOLE_BASE}/consents/${encodeURIComponent(id)}`);
    },
  );

  app.get(`${CONSOLE_BASE}/payments`, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const search = {
      status: text(query['status']),
      tpp: text(query['tpp']),
      customer: text(query['customer']),
      from: text(query['from']),
      to: text(query['to']),
    };
    const from = dateOf(search.from);
    const to = dateOf(search.to);
    const bad = (search.from && !from) || (search.to && !to);
    const rows = bad
      ? []
      : await searchPayments(db, {
          ...(search.status ? { status: search.status } : {}),
          ...(search.tpp ? { tpp: search.tpp } : {}),
          ...(search.customer ? { customer: search.customer } : {}),
          ...(from ? { from } : {}),
          ...(to ? { to } : {}),
        });
    return page(
      reply,
      bad ? 400 : 200,
      'Payments',
      html`<form class="search" method="get" action="${CONSOLE_BASE}/payments">
          <label for="status"
            >Status <input type="text" id="status" name="status" value="${search.status}"
          /></label>
          <label for="tpp">TPP <input type="text" id="tpp" name="tpp" value="${search.tpp}" /></label>
          <label for="customer"
            >Customer <input type="text" id="customer" name="customer" value="${search.customer}"
          /></label>
          <label for="from">From <input type="date" id="from" name="from" value="${search.from}" /></label>
          <label for="to">To <input type="date" id="to" name="to" value="${search.to}" /></label>
          <button type="submit">Search</button>
        </form>
        ${bad ? html`<p class="error" role="alert">Dates are YYYY-MM-DD.</p>` : ''}
        <table class="list">
          <thead>
            <tr>
              <th>Payment</th>
              <th>Kind</th>
              <th>Amount</th>
              <th>Status</th>
              <th>Reason</th>
              <th>TPP</th>
              <th>Consent</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (row) =>
                html`<tr>
                  <td><code>${row.id}</code></td>
                  <td>${row.kind}</td>
                  <td>${formatMinor(row.amountMinor, row.currency)}</td>
                  <td>${row.status}</td>
                  <td>${row.reason ?? ''}</td>
                  <td>${row.tppName}</td>
                  <td>
                    <a href="${CONSOLE_BASE}/consents/${encodeURIComponent(row.consentId)}"
                      ><code>${row.consentId}</code></a
                    >
                  </td>
                  <td>${when(row.createdAt)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        ${rows.length === 0 && !bad ? html`<p>No payment matches.</p>` : ''}`,
    );
  });

  // OB MI: availability and response times per API per day, from every instance's figures in the database.
  app.get(`${CONSOLE_BASE}/mi`, async (request, reply) => {
    const asked = Number(text((request.query as Record<string, unknown>)['days']) || '14');
    const count = Number.isInteger(asked) && asked >= 1 && asked <= 92 ? asked : 14;
    const today = Math.floor(clock.now().getTime() / 86_400_000) * 86_400_000;
    const from = new Date(today - (count - 1) * 86_400_000);
    const days = await readMiDays(db, { from, to: new Date(today + 86_400_000) });
    const dayList = Array.from({ length: count }, (_, i) =>
      new Date(from.getTime() + i * 86_400_000).toISOString().slice(0, 10),
    );
    return page(
      reply,
      200,
      'MI: availability and response times',
      html`<form class="search" method="get" action="${CONSOLE_BASE}/mi">
          <label for="days"
            >Days <input type="number" id="days" name="days" min="1" max="92" value="${count}"
          /></label>
          <button type="submit">Show</button>
        </form>
        <p>
          Per API and version, from the hourly MI of every instance. A day's availability counts the API down
          while any of its endpoints is (five technical failures within 30 s, until the next answer). The
          hourly figures per endpoint: <code>npx obkit operator mi</code>.
        </p>
        ${miCharts(days, dayList)}`,
    );
  });

  app.get(`${CONSOLE_BASE}/audit`, async (request, reply) => {
    const q = text((request.query as Record<string, unknown>)['q']);
    const lines = await readAudit(db, q ? { text: q } : {});
    return page(
      reply,
      200,
      'Audit log',
      html`<form class="search" method="get" action="${CONSOLE_BASE}/audit">
          <label for="q">Who, what or subject <input type="text" id="q" name="q" value="${q}" /></label>
          <button type="submit">Search</button>
        </form>
        <table class="list" id="audit">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>What</th>
              <th>Subject</th>
              <th>From</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            ${lines.map(
              (line) =>
                html`<tr>
                  <td>${when(line.at)}</td>
                  <td>${line.actor}</td>
                  <td>${line.action}</td>
                  <td><code>${line.subject ?? ''}</code></td>
                  <td>${line.address ?? ''}</td>
                  <td>${line.detail === '{}' ? '' : line.detail}</td>
                </tr>`,
            )}
          </tbody>
        </table>`,
    );
  });
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim().slice(0, 200) : '';
}

function dateOf(value: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const date = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function formatMinor(amount: bigint, currency: string): string {
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString().padStart(3, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)} ${currency}`;
}
