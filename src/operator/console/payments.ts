import type { FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../../shared/page-kit/index.ts';
import { searchPayments } from '../queries.ts';
import { CONSOLE_BASE, dateSearchForm, listTable, searchInput, when } from './pages.ts';
import type { ConsoleScope } from './scope.ts';
import { parseSearch } from './search.ts';

/** `GET /console/payments[?status=&tpp=&customer=&from=&to=]`. */
export function paymentSearch(scope: ConsoleScope) {
  const { db, page } = scope;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const {
      typed: search,
      filter,
      problem,
    } = parseSearch(request.query, ['status', 'tpp', 'customer'] as const);
    const bad = !filter;
    const rows = filter ? await searchPayments(db, filter) : [];
    return page(
      reply,
      bad ? 400 : 200,
      'Payments',
      html`${dateSearchForm(
        `${CONSOLE_BASE}/payments`,
        [
          searchInput('status', 'Status', search.status),
          searchInput('tpp', 'TPP', search.tpp),
          searchInput('customer', 'Customer', search.customer),
        ],
        search,
        problem,
      )}
      ${listTable(
        ['Payment', 'Kind', 'Amount', 'Status', 'Reason', 'TPP', 'Consent', 'Created'],
        rows.map((row) => [
          html`<code>${row.id}</code>`,
          row.kind,
          formatMinor(row.amountMinor, row.currency),
          row.status,
          row.reason ?? '',
          row.tppName,
          html`<a href="${CONSOLE_BASE}/consents/${encodeURIComponent(row.consentId)}"
            ><code>${row.consentId}</code></a
          >`,
          when(row.createdAt),
        ]),
      )}
      ${rows.length === 0 && !bad ? html`<p>No payment matches.</p>` : ''}`,
    );
  };
}

function formatMinor(amount: bigint, currency: string): string {
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString().padStart(3, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)} ${currency}`;
}
