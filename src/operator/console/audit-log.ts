import type { FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../../shared/page-kit/index.ts';
import { readAudit } from '../audit.ts';
import { CONSOLE_BASE, when } from './pages.ts';
import type { ConsoleScope } from './scope.ts';
import { text } from './search.ts';

/** `GET /console/audit[?q=]`: the audit log (read only: there is no route that changes it). */
export function auditLog(scope: ConsoleScope) {
  const { db, page } = scope;
  return async (request: FastifyRequest, reply: FastifyReply) => {
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
  };
}
