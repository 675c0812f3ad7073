import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfToken, field, html, type Form } from '../../shared/page-kit/index.ts';
import { listTpps, tppDetails } from '../queries.ts';
import { reinstateOrganisation, suspendOrganisation } from '../suspensions.ts';
import { CONSOLE_BASE, csrfField, statusBadge, when } from './pages.ts';
import { operatorOf, type ConsoleScope } from './scope.ts';
import { text } from './search.ts';

/** `GET /console/tpps[?q=]`: the organisations, with their status at the directory and at this bank. */
export function tppList(scope: ConsoleScope) {
  const { db, page } = scope;
  return async (request: FastifyRequest, reply: FastifyReply) => {
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
  };
}

/** `GET /console/tpps/:orgId`: clients, software and certificates; suspend or reinstate (admin). */
export function tppPage(scope: ConsoleScope) {
  const { db, page, isAdmin } = scope;
  return async (request: FastifyRequest, reply: FastifyReply) => {
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
  };
}

/** `POST /console/tpps/:orgId/suspend` (admin): the TPP is refused at this bank until reinstated. */
export function suspendPosted(scope: ConsoleScope) {
  const { db, clock, deps, page, redirect, audit } = scope;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const suspensionDeps = { db, clock, announce: deps.announceParticipantStatus };
    const { orgId } = request.params as { orgId: string };
    const reason = (field(request.body as Form, 'reason') ?? '').trim().slice(0, 200);
    if (!(await tppDetails(db, orgId)))
      return page(reply, 404, 'No such TPP', html`<p>No TPP with organisation id <code>${orgId}</code>.</p>`);
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
  };
}

/** `POST /console/tpps/:orgId/reinstate` (admin): served again. */
export function reinstatePosted(scope: ConsoleScope) {
  const { db, clock, deps, redirect, audit } = scope;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const suspensionDeps = { db, clock, announce: deps.announceParticipantStatus };
    const { orgId } = request.params as { orgId: string };
    const changed = await reinstateOrganisation(suspensionDeps, orgId);
    if (changed) await audit(request, { action: 'participant.reinstated', subject: `org:${orgId}` });
    return redirect(reply, `${CONSOLE_BASE}/tpps/${encodeURIComponent(orgId)}`);
  };
}
