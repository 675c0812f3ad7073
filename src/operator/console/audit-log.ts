import type { FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../../shared/page-kit/index.ts';
import { readAudit } from '../audit.ts';
import { CONSOLE_BASE, listTable, searchForm, searchInput, when } from './pages.ts';
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
      html`${searchForm(`${CONSOLE_BASE}/audit`, [searchInput('q', 'Who, what or subject', q)])}
      ${listTable(
        ['When', 'Who', 'What', 'Subject', 'From', 'Detail'],
        lines.map((line) => [
          when(line.at),
          line.actor,
          line.action,
          html`<code>${line.subject ?? ''}</code>`,
          line.address ?? '',
          line.detail === '{}' ? '' : line.detail,
        ]),
        { id: 'audit' },
      )}`,
    );
  };
}
