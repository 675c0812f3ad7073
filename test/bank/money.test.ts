import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InvalidAmountError,
  UnknownCurrencyError,
  convertMinor,
  currencyExponent,
  fromMinor,
  signedToMinor,
  toCreditDebit,
  toMinor,
  sandboxFxRate,
  quoteFx,
  quoteFxForTarget,
} from '../../src/bank/index.ts';

describe('money: decimal strings <-> minor units', () => {
  it('knows currency exponents (GBP 2, JPY 0, BHD 3) and refuses unknown codes', () => {
    assert.equal(currencyExponent('GBP'), 2);
    assert.equal(currencyExponent('EUR'), 2);
    assert.equal(currencyExponent('JPY'), 0);
    assert.equal(currencyExponent('BHD'), 3);
    assert.equal(currencyExponent('KWD'), 3);
    assert.equal(currencyExponent('CLF'), 4);
    for (const bad of ['XXX', 'gbp', 'GB', '', 'ABC'])
      assert.throws(() => currencyExponent(bad), UnknownCurrencyError);
  });

  it('parses OB amount strings exactly', () => {
    assert.equal(toMinor('12.34', 'GBP'), 1234n);
    assert.equal(toMinor('12.3', 'GBP'), 1230n);
    assert.equal(toMinor('12', 'GBP'), 1200n);
    assert.equal(toMinor('0.01', 'GBP'), 1n);
    assert.equal(toMinor('0', 'GBP'), 0n);
    assert.equal(toMinor('1000', 'JPY'), 1000n);
    assert.equal(toMinor('1.234', 'BHD'), 1234n);
    assert.equal(toMinor('9999999999999.99', 'GBP'), 999999999999999n);
    // 0.1 + 0.2 style float traps do not exist here.
    assert.equal(toMinor('0.29', 'GBP') + toMinor('0.01', 'GBP'), 30n);
    assert.equal(toMinor('1.10', 'GBP'), 110n);
  });

  it('refuses more significant decimals than the currency has, and accepts value-exact trailing zeros', () => {
    assert.throws(() => toMinor('1.234', 'GBP'), InvalidAmountError);
    assert.throws(() => toMinor('1.5', 'JPY'), /more decimal places than JPY allows \(0\)/);
    assert.throws(() => toMinor('1.2345', 'BHD'), InvalidAmountError);
    assert.equal(toMinor('10.00', 'JPY'), 10n);
    assert.equal(toMinor('1.23000', 'GBP'), 123n);
  });

  it('refuses anything but the OB pattern', () => {
    for (const bad of [
      '-1.00',
      '+1',
      '1e3',
      ' 1.00',
      '1.00 ',
      '1,000.00',
      '.5',
      '5.',
      '',
      '0x10',
      '1.000000',
      '12345678901234',
      'NaN',
    ]) {
      assert.throws(() => toMinor(bad, 'GBP'), InvalidAmountError, bad);
    }
    assert.throws(() => toMinor(12 as unknown as string, 'GBP'), InvalidAmountError);
    assert.throws(() => toMinor('1.00', 'ZZZ'), UnknownCurrencyError);
  });

  it('refuses zero when a positive amount is required', () => {
    assert.throws(() => toMinor('0.00', 'GBP', { positive: true }), /greater than zero/);
    assert.equal(toMinor('0.01', 'GBP', { positive: true }), 1n);
  });

  it('formats minor units with exactly the currency decimals', () => {
    assert.equal(fromMinor(1234n, 'GBP'), '12.34');
    assert.equal(fromMinor(5n, 'GBP'), '0.05');
    assert.equal(fromMinor(0n, 'GBP'), '0.00');
    assert.equal(fromMinor(-5n, 'GBP'), '-0.05');
    assert.equal(fromMinor(-123456n, 'GBP'), '-1234.56');
    assert.equal(fromMinor(1000n, 'JPY'), '1000');
    assert.equal(fromMinor(1n, 'BHD'), '0.001');
    assert.equal(fromMinor(2n ** 62n, 'GBP'), '46116860184273879.04');
    assert.deepEqual(toCreditDebit(-1050n, 'GBP'), { amount: '10.50', creditDebit: 'Debit' });
    assert.deepEqual(toCreditDebit(0n, 'GBP'), { amount: '0.00', creditDebit: 'Credit' });
    for (const s of ['0.01', '12.34', '999.99', '1000000.00'])
      assert.equal(fromMinor(toMinor(s, 'GBP'), 'GBP'), s);
  });

  it('parses signed internal amounts', () => {
    assert.equal(signedToMinor('-12.34', 'GBP'), -1234n);
    assert.equal(signedToMinor('7', 'JPY'), 7n);
    assert.throws(() => signedToMinor('--1', 'GBP'), InvalidAmountError);
  });

  it('converts between currencies exactly, rounding half away from zero', () => {
    assert.equal(convertMinor(10000n, 'GBP', 'EUR', '1.1650'), 11650n);
    assert.equal(convertMinor(1n, 'GBP', 'EUR', '1.5'), 2n); // 1.5 → 2
    assert.equal(convertMinor(1n, 'GBP', 'EUR', '1.49'), 1n);
    assert.equal(convertMinor(-1n, 'GBP', 'EUR', '1.5'), -2n);
    assert.equal(convertMinor(10000n, 'GBP', 'JPY', '187.23'), 18723n); // £100 → ¥18,723
    assert.equal(convertMinor(18723n, 'JPY', 'GBP', '0.005341'), 10000n); // ¥18,723 → £100.00 (99.999…)
    assert.equal(convertMinor(1000n, 'BHD', 'GBP', '2.1'), 210n);
    assert.throws(() => convertMinor(1n, 'GBP', 'EUR', '0'), /greater than zero/);
    assert.throws(() => convertMinor(1n, 'GBP', 'EUR', '-1.2'), InvalidAmountError);
  });
});

describe('sandbox FX table', () => {
  it('quotes deterministic cross rates to six decimals', () => {
    assert.equal(sandboxFxRate('GBP', 'EUR'), '1.165000');
    assert.equal(sandboxFxRate('EUR', 'GBP'), '0.858369'); // 1 / 1.165 = 0.8583690…
    assert.equal(sandboxFxRate('EUR', 'USD'), '1.090129'); // 1.27 / 1.165 = 1.0901287…
    assert.equal(sandboxFxRate('USD', 'USD'), '1.000000');
    assert.equal(sandboxFxRate('GBP', 'JPY'), '187.230000');
    assert.throws(() => sandboxFxRate('GBP', 'ISK'), /no exchange rate for GBP\/ISK/);
    assert.throws(() => sandboxFxRate('GBP', 'QQQ'), UnknownCurrencyError);
  });

  it('converts with the quoted rate and never delivers less than instructed', () => {
    const quote = quoteFx(10_000n, 'GBP', 'EUR');
    assert.deepEqual([quote.rate, quote.targetMinor], ['1.165000', 11_650n]);
    for (const target of [1n, 99n, 11_650n, 123_457n]) {
      const q = quoteFxForTarget(target, 'GBP', 'EUR');
      assert.ok(convertMinor(q.sourceMinor, 'GBP', 'EUR', q.rate) >= target);
      assert.ok(convertMinor(q.sourceMinor - 1n, 'GBP', 'EUR', q.rate) < target, `minimal for ${target}`);
    }
    assert.equal(quoteFxForTarget(18_723n, 'GBP', 'JPY').sourceMinor, 10_000n);
  });
});
