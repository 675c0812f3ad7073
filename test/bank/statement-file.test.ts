import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/shared/clock.ts';
import {
  findCustomerByUsername,
  fromMinor,
  listCustomerAccounts,
  listStatements,
  listTransactions,
  renderStatementPdf,
  seedSandbox,
} from '../../src/bank/index.ts';
import { buildPdf } from '../../src/bank/statement-file.ts';
import { createTestStore } from '../support/store.ts';

/** Checks the PDF's cross-reference table: every object offset points at "<n> 0 obj". */
function assertWellFormedPdf(pdf: Buffer): string {
  const text = pdf.toString('latin1');
  assert.ok(text.startsWith('%PDF-1.4\n'));
  assert.ok(text.endsWith('%%EOF\n'));
  const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(text)?.[1]);
  assert.equal(text.slice(startxref, startxref + 4), 'xref');
  const [, count] = /^xref\n0 (\d+)\n/.exec(text.slice(startxref)) ?? [];
  const entries = text
    .slice(startxref)
    .split('\n')
    .slice(3, 2 + Number(count));
  assert.equal(entries.length, Number(count) - 1);
  entries.forEach((entry, index) => {
    const offset = Number(entry.slice(0, 10));
    assert.equal(
      text.slice(offset, offset + `${index + 1} 0 obj`.length),
      `${index + 1} 0 obj`,
      `object ${index + 1}`,
    );
  });
  for (const match of text.matchAll(/<< \/Length (\d+) >>\nstream\n/g)) {
    const start = (match.index ?? 0) + match[0].length;
    assert.equal(text.slice(start + Number(match[1]), start + Number(match[1]) + 10), '\nendstream');
  }
  return text;
}

const store = await createTestStore();
await seedSandbox(store.db, { seed: 'statements', clock: new ManualClock('2026-11-21T09:30:00Z') });
const dave = await findCustomerByUsername(store.db, 'dave-ltd');
const [current] = await listCustomerAccounts(store.db, dave?.id ?? '');

describe('statement file', () => {
  it('renders a seeded statement as a well-formed, paginated PDF that agrees with the ledger', async () => {
    assert.ok(current);
    const [statement] = await listStatements(store.db, current.id);
    assert.ok(statement);
    const pdf = await renderStatementPdf(store.db, current.id, statement.id);
    assert.ok(pdf);
    const text = assertWellFormedPdf(pdf);
    assert.ok(text.includes(`(${'Closing balance'.padEnd(38)}`) || text.includes('Closing balance'));
    assert.ok(text.includes(fromMinor(statement.closingBookedMinor, 'GBP')));
    assert.ok(text.includes(fromMinor(statement.openingBookedMinor, 'GBP')));
    const { items } = await listTransactions(store.db, current.id, {
      from: statement.startAt,
      to: statement.endAt,
      status: ['Booked'],
      page: { size: 1000 },
    });
    assert.ok(items.length > 45, `a month of the bakery's transactions (${items.length}) spans pages`);
    for (const t of items)
      assert.ok(text.includes(fromMinor(t.amountMinor < 0n ? -t.amountMinor : t.amountMinor, 'GBP')));
    const pages = Number(/\/Count (\d+)/.exec(text)?.[1]);
    assert.ok(pages >= 2);
    assert.ok(text.includes(`Page ${pages} of ${pages}`));
  });

  it('answers undefined for a statement of another account', async () => {
    assert.ok(current);
    const [statement] = await listStatements(store.db, current.id);
    assert.equal(await renderStatementPdf(store.db, 'other-account', statement?.id ?? ''), undefined);
    assert.equal(await renderStatementPdf(store.db, current.id, 'nope'), undefined);
  });

  it('escapes PDF string syntax and drops non-ASCII characters', () => {
    const text = assertWellFormedPdf(buildPdf([['a (b) c\\d £5 é']], 'T (x)'));
    assert.ok(text.includes("(a \\(b\\) c\\\\d ?5 ?) '"));
    assert.ok(text.includes('/Title (T \\(x\\))'));
  });
});
