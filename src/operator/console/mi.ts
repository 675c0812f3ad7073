import type { FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../../shared/page-kit/index.ts';
import { miCharts } from '../mi/charts.ts';
import { readMiDays } from '../mi/report.ts';
import { CONSOLE_BASE, searchForm, searchInput } from './pages.ts';
import type { ConsoleScope } from './scope.ts';
import { text } from './search.ts';

/** `GET /console/mi[?days=]`: OB MI, availability and response times per API per day, from every instance's figures in the database. */
export function miPage(scope: ConsoleScope) {
  const { db, clock, page } = scope;
  return async (request: FastifyRequest, reply: FastifyReply) => {
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
      html`${searchForm(
          `${CONSOLE_BASE}/mi`,
          [searchInput('days', 'Days', count, { type: 'number', min: 1, max: 92 })],
          'Show',
        )}
        <p>
          Per API and version, from the hourly MI of every instance. A day's availability counts the API down
          while any of its endpoints is (five technical failures within 30 s, until the next answer). The
          hourly figures per endpoint: <code>npx obkit operator mi</code>.
        </p>
        ${miCharts(days, dayList)}`,
    );
  };
}
