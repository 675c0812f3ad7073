import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prefersPdf } from '../../src/openbanking/ais/account-information.ts';
import { ObError } from '../../src/openbanking/errors.ts';
import { pageLinks, pageOf, totalPagesOf } from '../../src/openbanking/http/pagination.ts';
import { intersectWindows, parseQueryDateTime } from '../../src/openbanking/http/query-dates.ts';

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
