import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfField, csrfToken, field, html, type Form } from '../../shared/page-kit/index.ts';
import { listTpps, tppDetails } from '../queries.ts';
import { reinstateOrganisation, suspendOrganisation } from '../suspensions.ts';
import { CONSOLE_BASE, listTable, searchForm, searchInput, statusBadge, when } from './pages.ts';
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
      html`${searchForm(`${CONSOLE_BASE}/tpps`, [searchInput('q', 'Organisation, name or client id', q)])}
      ${listTable(
        ['Organisation', 'Id', 'Clients', 'Directory', 'At this bank'],
        tpps.map((tpp) => [
          html`<a href="${CONSOLE_BASE}/tpps/${encodeURIComponent(tpp.orgId)}">${tpp.name}</a>`,
          html`<code>${tpp.orgId}</code>`,
          tpp.clients.length,
          tpp.directoryStatus ?? '—',
          tpp.suspension ? statusBadge('Suspended', false) : statusBadge('Served', true),
        ]),
      )}
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
        ${listTable(
          ['Client', 'Client id', 'Software', 'Roles'],
          tpp.clients.map((client) => [
            client.name,
            html`<code>${client.clientId}</code>`,
            html`<code>${client.softwareId ?? '—'}</code>`,
            client.roles.join(', '),
          ]),
        )}
        <h2>Software statements</h2>
        ${listTable(
          ['Name', 'Software id', 'Roles', 'Mode', 'Status'],
          tpp.software.map((software) => [
            software.name,
            html`<code>${software.id}</code>`,
            software.roles.join(', '),
            software.mode,
            software.status,
          ]),
        )}
        <h2>Certificates</h2>
        ${listTable(
          ['Type', 'Key id', 'Serial', 'Expires', 'Status'],
          tpp.certificates.map((certificate) => [
            certificate.type,
            html`<code>${certificate.kid}</code>`,
            html`<code>${certificate.serialNumber}</code>`,
            when(certificate.notAfter),
            `${certificate.status}${certificate.revocationReason ? ` (${certificate.revocationReason})` : ''}`,
          ]),
        )}`,
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
