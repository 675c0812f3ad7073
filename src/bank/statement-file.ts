/**
 * A statement as a PDF file (GET /accounts/{id}/statements/{sid}/file): a plain, paginated PDF 1.4
 * with the standard Courier font, written by hand (no dependency). Amounts come from the ledger:
 * opening balance, every Booked transaction of the period oldest first with its running balance,
 * totals and closing balance.
 */
import type { Queryable } from '../store/index.ts';
import { getAccount, getStatement } from './customers.ts';
import { listTransactions, type Transaction } from './ledger.ts';
import { fromMinor } from './money.ts';

const LINES_PER_PAGE = 52;

/** PDF text strings: ASCII only (other characters become '?'), with \, ( and ) escaped. */
function pdfText(text: string): string {
  return text
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/\\/g, '\\\\')
    .replace(/\(/g, '\\(')
    .replace(/\)/g, '\\)');
}

function column(text: string, width: number, right = false): string {
  const clipped = text.length > width ? text.slice(0, width) : text;
  return right ? clipped.padStart(width) : clipped.padEnd(width);
}

/** Builds a PDF document from pages of monospace-ish text lines. Exported for tests. */
export function buildPdf(pages: string[][], title: string): Buffer {
  const objects: string[] = [];
  const add = (body: string): number => objects.push(body);
  const catalog = add('');
  const pagesObject = add('');
  const font = add('<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>');
  const info = add(`<< /Title (${pdfText(title)}) /Producer (obkit model bank) >>`);
  const kids: number[] = [];
  for (const lines of pages) {
    const content = [
      'BT',
      '/F1 9 Tf',
      '11 TL',
      '40 800 Td',
      ...lines.map((line) => `(${pdfText(line)}) '`),
      'ET',
    ].join('\n');
    const stream = add(
      `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`,
    );
    kids.push(
      add(
        `<< /Type /Page /Parent ${pagesObject} 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${stream} 0 R >>`,
      ),
    );
  }
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pagesObject} 0 R >>`;
  objects[pagesObject - 1] =
    `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;

  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((body, index) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${index + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) out += `${String(offset).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R /Info ${info} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** The statement's PDF, or undefined when the account has no such statement. */
export async function renderStatementPdf(
  db: Queryable,
  accountId: string,
  statementId: string,
): Promise<Buffer | undefined> {
  const statement = await getStatement(db, accountId, statementId);
  const account = await getAccount(db, accountId);
  if (!statement || !account) return undefined;
  const transactions: Transaction[] = [];
  for (let number = 1; ; number += 1) {
    const page = await listTransactions(db, accountId, {
      from: statement.startAt,
      to: statement.endAt,
      status: ['Booked'],
      page: { number, size: 1000 },
    });
    transactions.push(...page.items);
    if (number >= page.totalPages) break;
  }
  transactions.reverse();
  const money = (minor: bigint) => fromMinor(minor, statement.currency);
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const identification =
    account.sortCode && account.accountNumber
      ? `Sort code ${account.sortCode.replace(/(\d{2})(\d{2})(\d{2})/, '$1-$2-$3')}  Account ${account.accountNumber}`
      : account.pan
        ? `Card ending ${account.pan.slice(-4)}`
        : '';
  const header = [
    'Model Bank (obkit sandbox)',
    '',
    `Statement ${statement.reference ?? statement.id}`,
    `${account.name}  -  ${account.description ?? account.accountSubType}  (${account.currency})`,
    identification,
    account.iban ? `IBAN ${account.iban}` : '',
    `Period ${day(statement.startAt)} to ${day(statement.endAt)}   Issued ${day(statement.createdAt)}`,
    '',
    `${column('Date', 10)}  ${column('Description', 38)} ${column('Paid out', 12, true)} ${column('Paid in', 12, true)} ${column('Balance', 13, true)}`,
    '-'.repeat(90),
    `${column(day(statement.startAt), 10)}  ${column('Balance brought forward', 38)} ${column('', 12)} ${column('', 12)} ${column(money(statement.openingBookedMinor), 13, true)}`,
  ].filter((line, index) => index < 2 || line !== '');
  const body = transactions.map((t) => {
    const description = t.transactionInformation ?? t.merchant?.name ?? t.transactionReference ?? t.entryId;
    const out = t.amountMinor < 0n ? money(-t.amountMinor) : '';
    const paidIn = t.amountMinor > 0n ? money(t.amountMinor) : '';
    const balance = t.balanceAfterMinor !== null ? money(t.balanceAfterMinor) : '';
    return `${column(day(t.bookedAt), 10)}  ${column(description, 38)} ${column(out, 12, true)} ${column(paidIn, 12, true)} ${column(balance, 13, true)}`;
  });
  const footer = [
    '-'.repeat(90),
    `${column('Total paid out', 50)} ${column(money(statement.totalDebitsMinor), 12, true)}`,
    `${column('Total paid in', 50)} ${column('', 12)} ${column(money(statement.totalCreditsMinor), 12, true)}`,
    `${column(day(statement.endAt), 10)}  ${column('Closing balance', 38)} ${column('', 12)} ${column('', 12)} ${column(money(statement.closingBookedMinor), 13, true)}`,
  ];
  const lines = [...body, ...footer];
  const pages: string[][] = [];
  let first = true;
  while (first || lines.length) {
    const room = LINES_PER_PAGE - (first ? header.length : 2);
    const chunk = lines.splice(0, room);
    pages.push(
      first
        ? [...header, ...chunk]
        : [`Statement ${statement.reference ?? statement.id} (continued)`, '', ...chunk],
    );
    first = false;
  }
  pages.forEach((page, index) => page.push('', `Page ${index + 1} of ${pages.length}`));
  return buildPdf(pages, `Statement ${statement.reference ?? statement.id}`);
}
