import type { FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../../shared/page-kit/index.ts';
import { searchPayments } from '../queries.ts';
import { CONSOLE_BASE, when } from './pages.ts';
import type { ConsoleScope } from './scope.ts';
import { parseSearch } from './search.ts';

/** `GET /console/payments[?status=&tpp=&customer=&from=&to=]`. */
export function paymentSearch(scope: ConsoleScope) {
  const { db, page } = scope;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const { typed: search, filter } = parseSearch(request.query, ['status', 'tpp', 'customer'] as const);
    const bad = !filter;
    const rows = filter ? await searchPayments(db, filter) : [];
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
  };
}

function formatMinor(amount: bigint, currency: string): string {
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString().padStart(3, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)} ${currency}`;
}
