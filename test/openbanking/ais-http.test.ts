import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prefersPdf } from '../../src/openbanking/ais/account-information.ts';
import { ObError } from '../../src/openbanking/errors.ts';
import { pageLinks, pageOf, totalPagesOf } from '../../src/openbanking/http/pagination.ts';
import { intersectWindows, parseQueryDateTime } from '../../src/openbanking/http/query-dates.ts';
import { readWriteUrl } from '../../src/openbanking/http/wire.ts';

function invalidDate(value: unknown): void {
  assert.throws(
    () => parseQueryDateTime(value, 'fromBookingDateTime'),
    (error: unknown) =>
      error instanceof ObError &&
      error.status === 400 &&
      error.errors[0].ErrorCode === 'UK.OBIE.Field.InvalidDate' &&
      error.errors[0].Path === 'fromBookingDateTime',
  );
}

describe('AIS query date filters', () => {
  it('reads dates and date-times as UTC wall-clock times, ignoring any zone (as the spec asks)', () => {
    const at = (v: string) => parseQueryDateTime(v, 'p')?.toISOString();
    assert.equal(at('2024-03-01'), '2024-03-01T00:00:00.000Z');
    assert.equal(at('2024-03-01T10:15'), '2024-03-01T10:15:00.000Z');
    assert.equal(at('2024-03-01T10:15:30.5'), '2024-03-01T10:15:30.500Z');
    assert.equal(at('2024-03-01T10:15:30+05:00'), '2024-03-01T10:15:30.000Z');
    assert.equal(at('2024-03-01T10:15:30Z'), '2024-03-01T10:15:30.000Z');
    assert.equal(at('2024-02-29T23:59:59'), '2024-02-29T23:59:59.000Z');
    assert.equal(parseQueryDateTime(undefined, 'p'), undefined);
  });

  it('reads the ISO 8601 basic form, ordinal and week dates, and decimal fractions as the extended form', () => {
    const at = (v: string) => parseQueryDateTime(v, 'p')?.toISOString();
    const same: [string, string][] = [
      ['20240301', '2024-03-01T00:00:00.000Z'],
      ['20240301T1015', '2024-03-01T10:15:00.000Z'],
      ['20240301T101530', '2024-03-01T10:15:30.000Z'],
      ['20240301T101530.25', '2024-03-01T10:15:30.250Z'],
      ['20240301T101530,25Z', '2024-03-01T10:15:30.250Z'],
      ['20240301T101530+0530', '2024-03-01T10:15:30.000Z'],
      ['20240301T101530-05', '2024-03-01T10:15:30.000Z'],
      ['2024-03-01T10:15:30-05', '2024-03-01T10:15:30.000Z'],
      ['2024-03-01T10', '2024-03-01T10:00:00.000Z'],
      ['2024-03-01T10.5', '2024-03-01T10:30:00.000Z'],
      ['2024-03-01T10:15,5', '2024-03-01T10:15:30.000Z'],
      ['2024-061', '2024-03-01T00:00:00.000Z'],
      ['2024061T101530', '2024-03-01T10:15:30.000Z'],
      ['2024-366', '2024-12-31T00:00:00.000Z'],
      ['2024-W09-5', '2024-03-01T00:00:00.000Z'],
      ['2024W095T1015', '2024-03-01T10:15:00.000Z'],
      ['2026-W01-1', '2025-12-29T00:00:00.000Z'],
      ['2026-W53-7', '2027-01-03T00:00:00.000Z'],
      ['0099-01-01', '0099-01-01T00:00:00.000Z'],
    ];
    for (const [value, expected] of same) assert.equal(at(value), expected, value);
  });

  it('refuses what is not an ISO 8601 date on the calendar with 400 UK.OBIE.Field.InvalidDate', () => {
    for (const bad of [
      '',
      'yesterday',
      '2023-02-29',
      '2024-04-31',
      '2024-13-01',
      '2024-00-10',
      '2024-01-01T24:00:00',
      '2024-01-01T10:60',
      '01/02/2024',
      '2024-1-1',
      '2024-01-01 10:00:00',
      // Basic and extended mixed in one value, or a zone in the other form.
      '2024-03-01T101530',
      '20240301T10:15:30',
      '2024-03-01T10:15:30+0530',
      '20240301T101530+05:30',
      '2024-0301',
      '2024W095T10:15',
      // Not on the calendar: day 366 of a common year, week 53 of a 52-week year, week 0, weekday 8.
      '2023-366',
      '2025-W53-1',
      '2024-W00-1',
      '2024-W01-8',
      '2024-000',
      // Reduced precision is a month or a year, not a date-time.
      '2024-03',
      '2024',
      '2024-03-01T',
      '2024-03-01T10:15:30T',
      '2024-03-01t10:15',
      ['2024-01-01'],
      42,
    ]) {
      invalidDate(bad);
    }
  });

  it('intersects windows; disjoint ones give nothing', () => {
    const d = (s: string) => new Date(s);
    assert.deepEqual(intersectWindows({ from: d('2024-01-01') }, { to: d('2024-02-01') }), {
      from: d('2024-01-01'),
      to: d('2024-02-01'),
    });
    assert.deepEqual(
      intersectWindows({ from: d('2024-01-01'), to: d('2024-03-01') }, { from: d('2024-02-01') }),
      { from: d('2024-02-01'), to: d('2024-03-01') },
    );
    assert.equal(intersectWindows({ to: d('2024-01-01') }, { from: d('2024-02-01') }), undefined);
    assert.deepEqual(intersectWindows({}, {}), {});
  });
});

describe('AIS paging', () => {
  it('gives Self alone for one page, and First/Prev/Next/Last keeping other parameters otherwise', () => {
    assert.deepEqual(pageLinks('https://b.example/x', 1, 1), {
      Links: { Self: 'https://b.example/x' },
      Meta: { TotalPages: 1 },
    });
    const middle = pageLinks('https://b.example/x?fromBookingDateTime=2024-01-01&page=2', 2, 3);
    assert.deepEqual(middle.Links, {
      Self: 'https://b.example/x?fromBookingDateTime=2024-01-01&page=2',
      First: 'https://b.example/x?fromBookingDateTime=2024-01-01&page=1',
      Prev: 'https://b.example/x?fromBookingDateTime=2024-01-01&page=1',
      Next: 'https://b.example/x?fromBookingDateTime=2024-01-01&page=3',
      Last: 'https://b.example/x?fromBookingDateTime=2024-01-01&page=3',
    });
    assert.equal(pageLinks('https://b.example/x', 1, 3).Links.Prev, undefined);
    assert.equal(pageLinks('https://b.example/x?page=3', 3, 3).Links.Next, undefined);
  });

  it('pages in memory and refuses a page past the last', () => {
    const items = Array.from({ length: 7 }, (_, i) => i);
    assert.equal(totalPagesOf(0, 3), 1);
    assert.equal(totalPagesOf(7, 3), 3);
    assert.deepEqual(pageOf(items, 3, 3), [6]);
    assert.deepEqual(pageOf([], 1, 3), []);
    assert.throws(
      () => pageOf(items, 4, 3),
      (e: unknown) => e instanceof ObError && e.errors[0].ErrorCode === 'UK.OBIE.Field.Invalid',
    );
  });
});

describe('statement file content negotiation', () => {
  it('serves a PDF only when PDF is preferred to JSON', () => {
    assert.equal(prefersPdf(undefined), false);
    assert.equal(prefersPdf('application/json'), false);
    assert.equal(prefersPdf('application/pdf'), true);
    assert.equal(prefersPdf('application/pdf, */*;q=0.1'), true);
    assert.equal(prefersPdf('application/json, application/pdf'), false);
    assert.equal(prefersPdf('application/json;q=0.5, application/pdf'), true);
    assert.equal(prefersPdf('application/pdf;q=0'), false);
  });
});

describe('trailing slashes on Read/Write paths', () => {
  it('drops one trailing slash under an API base path, keeping the query; leaves anything else alone', () => {
    const aisp = '/open-banking/v3.1/aisp';
    assert.equal(readWriteUrl(`${aisp}/accounts/`), `${aisp}/accounts`);
    assert.equal(
      readWriteUrl(`${aisp}/accounts/a1/transactions/?page=2`),
      `${aisp}/accounts/a1/transactions?page=2`,
    );
    assert.equal(
      readWriteUrl('/open-banking/v3.1/pisp/domestic-payments/p1/'),
      '/open-banking/v3.1/pisp/domestic-payments/p1',
    );
    assert.equal(
      readWriteUrl('/open-banking/v3.1/cbpii/funds-confirmations/'),
      '/open-banking/v3.1/cbpii/funds-confirmations',
    );
    for (const url of [
      `${aisp}/accounts`,
      `${aisp}/`,
      `${aisp}/accounts?x=/`,
      '/token/',
      '/open-banking/v9/aisp/accounts/',
      '/',
    ]) {
      assert.equal(readWriteUrl(url), url, url);
    }
  });
});
