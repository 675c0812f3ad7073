import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  PageClient,
  paymentTruthWorld,
  startInteraction,
  textOf,
  type QuotedData,
} from './payment-truth-world.ts';

/**
 * What the customer is told is true (issue 10 item 8): the dashboard shows what the bank really did with
 * each payment — a rejected payment reads Rejected, with its reason, never "Completed · Payment made" — for
 * every payment kind; the consent page of an international payment shows the exchange rate and charges
 * exactly as the bank quoted them to the TPP. Payments go through the real PIS API on the test store
 * (PGlite, or PostgreSQL with DATABASE_URL).
 */
const w = await paymentTruthWorld();
const INSUFFICIENT = 'Insufficient funds: there was not enough money in the account';

/** The text of the dashboard card that links to consent `id`. */
function cardOf(body: string, id: string): string {
  const card = body.split('<li class="consent">').find((part) => part.includes(`/dashboard/consents/${id}"`));
  assert.ok(card, `a card for ${id}`);
  return textOf(card.slice(0, card.indexOf('</li>')));
}

/** The facts of a page, as "label value" lines keyed by label. */
function factsOf(body: string): Map<string, string> {
  const facts = new Map<string, string>();
  for (const match of body.matchAll(/<dt>([\s\S]*?)<\/dt>\s*<dd>([\s\S]*?)<\/dd>/g))
    facts.set(textOf(match[1]!).trim(), textOf(match[2]!).trim());
  return facts;
}

describe('the dashboard tells what the bank did with each payment', async () => {
  const client = new PageClient(w);
  await client.logIn('/dashboard');
  const list = await client.get('/dashboard');

  it('a rejected £5,000 payment reads Rejected with its reason, never Completed', () => {
    assert.equal(list.statusCode, 200);
    const card = cardOf(list.body, w.ids.rejected);
    assert.match(card, /A payment Rejected/);
    assert.match(
      card,
      new RegExp(`Payment £5,000\\.00 rejected on 2 March 2026 at 10:00 \\(UK time\\): ${INSUFFICIENT}`),
    );
    assert.doesNotMatch(textOf(list.body), /Completed/);
    assert.match(list.body, /<span class="state rejected">Rejected<\/span>/);
    assert.doesNotMatch(card, /withdraw/i, 'a payment cannot be withdrawn, nor expires when withdrawn');
    assert.match(card, /Details and history/);
  });

  it('a payment the bank made reads Paid', () => {
    const card = cardOf(list.body, w.ids.paid);
    assert.match(card, /A payment Paid/);
    assert.match(card, /Payment £10\.00 paid on 2 March 2026 at 10:01 \(UK time\)/);
  });

  it('an international scheduled payment refused when due reads Rejected, with the reason', () => {
    const card = cardOf(list.body, w.ids.scheduledRejected);
    assert.match(card, / Rejected /);
    assert.match(
      card,
      new RegExp(
        `Payment £[\\d,]+\\.\\d\\d rejected on 3 March 2026 at \\d\\d:\\d\\d \\(UK time\\): ${INSUFFICIENT}`,
      ),
    );
  });

  it('a standing order reads Set up, with the payment made, the one refused and the next one due', () => {
    const card = cardOf(list.body, w.ids.standingOrder);
    assert.match(card, / Set up /);
    assert.match(
      card,
      new RegExp(
        `Payments 1 paid, 1 rejected; latest: £300\\.00 rejected on 3 March 2026 at 12:03 \\(UK time\\): ${INSUFFICIENT}; next: £300\\.00 due on 4 March 2026`,
      ),
    );
  });

  it('a file with a refused transaction reads Partly rejected', () => {
    const card = cardOf(list.body, w.ids.file);
    assert.match(card, / Partly rejected /);
    assert.match(
      card,
      new RegExp(`Payments 1 paid, 1 rejected; latest: £2,000\\.00 rejected on .*: ${INSUFFICIENT}`),
    );
  });

  it('a VRP consent stays Active and tells its payments, the refused one with its reason', () => {
    const card = cardOf(list.body, w.ids.vrp);
    assert.match(card, / Active /);
    assert.match(
      card,
      new RegExp(`Payments 1 paid, 1 rejected; latest: £8,000\\.00 rejected on .*: ${INSUFFICIENT}`),
    );
  });

  it('the details page of the rejected payment: a Payments table and the history, newest first', async () => {
    const page = await client.get(`/dashboard/consents/${w.ids.rejected}`);
    assert.equal(page.statusCode, 200);
    const words = textOf(page.body);
    assert.match(words, /A payment Rejected/);
    assert.match(
      words,
      new RegExp(
        `Payments What the bank did with each payment, oldest first When Amount Outcome 2 March 2026 at 10:00 \\(UK time\\) £5,000\\.00 Rejected: ${INSUFFICIENT}`,
      ),
    );
    const history = words.slice(words.indexOf('History'));
    const outcome = history.indexOf(
      `Payment of £5,000.00 rejected on 2 March 2026 at 10:00 (UK time): ${INSUFFICIENT}`,
    );
    const sent = history.indexOf('Payment instruction sent by Acme Payments');
    assert.ok(outcome > 0 && sent > outcome, 'the outcome, then (older) the instruction');
    assert.doesNotMatch(words, /Payment made|Completed/);
  });

  it('the details page of the standing order lists each payment: paid, rejected, due', async () => {
    const words = textOf((await client.get(`/dashboard/consents/${w.ids.standingOrder}`)).body);
    assert.match(
      words,
      new RegExp(
        `2 March 2026 at 12:03 \\(UK time\\) £300\\.00 Paid 3 March 2026 at 12:03 \\(UK time\\) £300\\.00 Rejected: ${INSUFFICIENT} 4 March 2026 £300\\.00 Due`,
      ),
    );
    assert.match(words, /Payment of £300\.00 paid on 2 March 2026 at 12:03/);
  });

  it('the details page of the file and of the VRP consent list each payment with its outcome', async () => {
    const file = textOf((await client.get(`/dashboard/consents/${w.ids.file}`)).body);
    assert.match(file, new RegExp(`£20\\.00 Paid .* £2,000\\.00 Rejected: ${INSUFFICIENT}`));
    const vrp = textOf((await client.get(`/dashboard/consents/${w.ids.vrp}`)).body);
    assert.match(vrp, new RegExp(`£15\\.00 Paid .* £8,000\\.00 Rejected: ${INSUFFICIENT}`));
  });
});

describe('the international consent page shows the exchange rate and charges as quoted to the TPP', () => {
  async function consentPage(intentId: string): Promise<Map<string, string>> {
    const { uid, cookie } = startInteraction(w, intentId);
    const client = new PageClient(w);
    const [name, value] = cookie.split('=') as [string, string];
    client.cookies.set(name, value);
    await client.logIn(`/interaction/${uid}`);
    const page = await client.get(`/interaction/${uid}`);
    assert.equal(page.statusCode, 200, page.body);
    assert.match(textOf(page.body), /Acme Payments asks to/);
    return factsOf(page.body);
  }

  function rateOf(quote: QuotedData, to: string): string {
    const rate = quote.ExchangeRateInformation;
    assert.ok(rate, 'the TPP was quoted a rate');
    return `1 ${rate.UnitCurrency} = ${String(rate.ExchangeRate)} ${to} (${rate.RateType.toLowerCase()})`;
  }

  it('a payment: rate and charge of the staging response', async () => {
    const quote = w.quotes.international;
    assert.deepEqual(quote.Charges?.[0]?.Amount, { Amount: '5.00', Currency: 'GBP' });
    assert.equal(quote.Charges?.[0]?.ChargeBearer, 'BorneByDebtor');
    const facts = await consentPage(w.ids.international);
    assert.equal(facts.get('Exchange rate'), rateOf(quote, 'EUR'));
    assert.match(facts.get('Exchange rate') ?? '', /^1 GBP = 1\.\d+ EUR \(indicative\)$/);
    assert.equal(facts.get('Charges'), '£5.00, paid by you');
    assert.equal(facts.get('Amount'), '€100.00');
  });

  it('a scheduled payment: the same, the charge shared as the TPP asked', async () => {
    const quote = w.quotes.internationalScheduled;
    assert.deepEqual(quote.Charges?.[0], {
      ChargeBearer: 'Shared',
      Type: 'UK.OBIE.InternationalPayment',
      Amount: { Amount: '5.00', Currency: 'GBP' },
    });
    const facts = await consentPage(w.ids.internationalScheduled);
    assert.equal(facts.get('Exchange rate'), rateOf(quote, 'USD'));
    assert.equal(facts.get('Charges'), '£5.00, shared between you and the payee');
  });

  it('a standing order: the charge quoted, and no rate where none was quoted', async () => {
    const quote = w.quotes.internationalStandingOrder;
    assert.equal(quote.ExchangeRateInformation, undefined, 'OB quotes no rate for standing orders');
    assert.deepEqual(quote.Charges?.[0]?.Amount, { Amount: '5.00', Currency: 'GBP' });
    const facts = await consentPage(w.ids.internationalStandingOrder);
    assert.equal(facts.get('Charges'), '£5.00, paid by you');
    assert.equal(facts.get('Paid in'), 'EUR');
    assert.equal(facts.has('Exchange rate'), false);
  });
});
