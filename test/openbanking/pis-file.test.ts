import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { balanceOf, type AccountRecord } from '../../src/bank/index.ts';
import { getIntent } from '../../src/consent/index.ts';
import { assertValidResponse, PIS_V3_1_11, responseSchemaPointer } from '../support/openapi.ts';
import { recordSent } from '../support/statements.ts';
import { createHarness, type Harness, type Response } from './pis-support.ts';

const h: Harness = await createHarness();
afterEach(async () => h.assertLedgerSound());

const FILE_TYPE = 'UK.OBIE.PaymentInitiation.3.1';

function valid(path: string, method: string, response: Response): void {
  assertValidResponse(PIS_V3_1_11, path, method, response.status, response.body);
}

/**
 * The spec gives the file download and the report file the schema `File`, an empty object with no
 * properties allowed: a placeholder for "a file", which no real file satisfies. What can be checked is
 * that the spec declares this status with that placeholder; the harness checks the bank's signature.
 */
function validFile(path: string, response: Response): void {
  assert.equal(response.status, 200, response.text);
  assert.match(
    responseSchemaPointer(PIS_V3_1_11, path, 'get', 200),
    /^#\/components\/responses\/200FilePayment[A-Za-z]+Read\/content\//,
  );
  assert.equal(typeof response.headers['x-jws-signature'], 'string');
}

function errorCode(response: Response): string | undefined {
  return response.body.Errors?.[0]?.ErrorCode;
}

async function entriesCount(): Promise<number> {
  const result = (await h.store.db.execute(sql`select count(*)::int as n from bank_entries`)) as unknown as {
    rows: { n: number }[];
  };
  return Number(result.rows[0]?.n);
}

const hashOf = (file: string) => createHash('sha256').update(file).digest('base64');

type Creditor = AccountRecord | { sortCode: string; accountNumber: string; name: string };

function item(creditor: Creditor, amount: string, extra: Record<string, unknown> = {}) {
  return {
    InstructionIdentification: `instr-${randomUUID().slice(0, 8)}`,
    EndToEndIdentification: `E2E-${randomUUID().slice(0, 8)}`,
    InstructedAmount: { Amount: amount, Currency: 'GBP' },
    CreditorAccount: {
      SchemeName: 'UK.OBIE.SortCodeAccountNumber',
      Identification: `${creditor.sortCode}${creditor.accountNumber}`,
      Name: creditor.name,
    },
    RemittanceInformation: { Reference: 'Payroll March' },
    ...extra,
  };
}

const fileOf = (items: unknown[]) => JSON.stringify({ Data: { DomesticPayments: items } }, null, 2);

/** An OBWriteFileConsent3 for `file`, declaring `count` transactions adding up to `sum`. */
function fileConsent(file: string, count: number, sum: number, initiation: Record<string, unknown> = {}) {
  return {
    Data: {
      Initiation: {
        FileType: FILE_TYPE,
        FileHash: hashOf(file),
        FileReference: 'PAYROLL-2026-03',
        NumberOfTransactions: String(count),
        ControlSum: sum,
        ...initiation,
      },
    },
  };
}

async function stage(body: ReturnType<typeof fileConsent>): Promise<string> {
  const staged = await h.post('/file-payment-consents', body);
  assert.equal(staged.status, 201, staged.text);
  valid('/file-payment-consents', 'post', staged);
  assert.equal(staged.body.Data?.Status, 'AwaitingUpload');
  return String(staged.body.Data?.ConsentId);
}

function upload(consentId: string, file: string, options: Parameters<Harness['post']>[2] = {}) {
  return h.post(`/file-payment-consents/${consentId}/file`, undefined, { raw: file, ...options });
}

async function statusOf(consentId: string): Promise<string | undefined> {
  return (await getIntent(h.store.db, consentId))?.status;
}

/** Stages, uploads and authorises a file; returns what a submission needs. */
async function authorisedFile(
  items: unknown[],
  sum: number,
  accountId?: string,
  initiation: Record<string, unknown> = {},
) {
  const file = fileOf(items);
  const body = fileConsent(file, items.length, sum, initiation);
  const consentId = await stage(body);
  const uploaded = await upload(consentId, file);
  assert.equal(uploaded.status, 200, uploaded.text);
  const token = await h.authorise(consentId, accountId);
  const submission = { Data: { ConsentId: consentId, Initiation: body.Data.Initiation } };
  return { consentId, file, token, submission };
}

interface Detail {
  PaymentTransactionId: string;
  Status: string;
  StatusDetail?: { StatusReasonDescription?: string };
}

describe('file payments: the whole journey', () => {
  it('looks the payees up in one statement, and writes each paid transaction’s row with its posting', async () => {
    const outside = { sortCode: '401276', accountNumber: '31926819', name: 'ACME Ltd' };
    const { submission, token } = await authorisedFile(
      [item(h.bob, '1.00'), item(outside, '2.00'), item(h.bob, '3.00')],
      6,
    );
    const { result, sent } = await recordSent(() => h.post('/file-payments', submission, { token }));
    assert.equal(result.status, 201, result.text);
    const inserts = sent.filter(({ text }) => /^\s*insert into "bank_payments"/i.test(text));
    const listing = sent.map(({ text }) => text.slice(0, 100)).join('\n');
    // The file's own row only (was 4: each transaction's row after its posting, built per call).
    assert.equal(inserts.length, 1, listing);
    // The payees' accounts here in one statement (was one look-up per transaction): 21 → 16 besides BEGIN/COMMIT.
    const work = sent.filter(({ text }) => !/^\s*(begin|commit|rollback|COMMIT or ROLLBACK)\b/i.test(text));
    assert.ok(work.length <= 16, `${work.length} statements:\n${listing}`);
    const details = await h.get(`/file-payments/${String(result.body.Data?.FilePaymentId)}/payment-details`);
    assert.deepEqual(
      (details.body.Data?.PaymentStatus as Detail[]).map((d) => d.Status),
      [
        'AcceptedCreditSettlementCompleted',
        'AcceptedSettlementCompleted',
        'AcceptedCreditSettlementCompleted',
      ],
    );
  });

  it('stages, uploads, authorises, pays every transaction, and reports each one', async () => {
    const outside = { sortCode: '401276', accountNumber: '31926819', name: 'ACME Ltd' };
    const items = [item(h.bob, '10.50'), item(outside, '20.00'), item(h.bob, '0.25')];
    const file = fileOf(items);
    const body = fileConsent(file, 3, 30.75);
    const aliceBefore = (await balanceOf(h.store.db, h.alice.id)).bookedMinor;
    const bobBefore = (await balanceOf(h.store.db, h.bob.id)).bookedMinor;

    const consentId = await stage(body);
    const staged = await h.get(`/file-payment-consents/${consentId}`);
    valid(`/file-payment-consents/${consentId}`, 'get', staged);
    assert.deepEqual(staged.body.Data?.Initiation, body.Data.Initiation);
    assert.equal('Risk' in staged.body, false);

    const uploaded = await upload(consentId, file);
    assert.equal(uploaded.status, 200, uploaded.text);
    assert.equal(uploaded.text, '', 'OB: the upload answers 200 with no body');
    const awaiting = await h.get(`/file-payment-consents/${consentId}`);
    valid(`/file-payment-consents/${consentId}`, 'get', awaiting);
    assert.equal(awaiting.body.Data?.Status, 'AwaitingAuthorisation');

    const token = await h.authorise(consentId);
    const authorised = await h.get(`/file-payment-consents/${consentId}`);
    valid(`/file-payment-consents/${consentId}`, 'get', authorised);
    assert.equal(
      (authorised.body.Data?.Debtor as { Identification: string }).Identification,
      `${h.alice.sortCode}${h.alice.accountNumber}`,
    );

    const made = await h.post(
      '/file-payments',
      { Data: { ConsentId: consentId, Initiation: body.Data.Initiation } },
      { token },
    );
    assert.equal(made.status, 201, made.text);
    valid('/file-payments', 'post', made);
    assert.equal(made.body.Data?.Status, 'InitiationCompleted');
    assert.equal(await statusOf(consentId), 'Consumed');
    assert.equal((await balanceOf(h.store.db, h.alice.id)).bookedMinor, aliceBefore - 3075n);
    assert.equal((await balanceOf(h.store.db, h.bob.id)).bookedMinor, bobBefore + 1075n);

    const id = String(made.body.Data?.FilePaymentId);
    const read = await h.get(`/file-payments/${id}`);
    valid(`/file-payments/${id}`, 'get', read);
    assert.deepEqual(read.body.Data, made.body.Data);

    const details = await h.get(`/file-payments/${id}/payment-details`);
    valid(`/file-payments/${id}/payment-details`, 'get', details);
    assert.deepEqual(
      (details.body.Data?.PaymentStatus as Detail[]).map((d) => d.Status),
      [
        'AcceptedCreditSettlementCompleted',
        'AcceptedSettlementCompleted',
        'AcceptedCreditSettlementCompleted',
      ],
    );

    const report = await h.get(`/file-payments/${id}/report-file`);
    validFile(`/file-payments/${id}/report-file`, report);
    assert.match(String(report.headers['content-type']), /^application\/json/);
    const data = report.body.Data as {
      Status: string;
      NumberOfTransactions: string;
      ControlSum: string;
      Accepted: { NumberOfTransactions: string; Amount: { Amount: string } };
      Rejected: { NumberOfTransactions: string };
      Transactions: { Index: number; InstructionIdentification: string; Status: string }[];
    };
    assert.equal(data.Status, 'InitiationCompleted');
    assert.equal(data.NumberOfTransactions, '3');
    assert.equal(data.ControlSum, '30.75');
    assert.equal(data.Accepted.Amount.Amount, '30.75');
    assert.equal(data.Rejected.NumberOfTransactions, '0');
    assert.deepEqual(
      data.Transactions.map((t) => [t.Index, t.InstructionIdentification]),
      items.map((it, i) => [i + 1, it.InstructionIdentification]),
    );

    const download = await h.get(`/file-payment-consents/${consentId}/file`);
    validFile(`/file-payment-consents/${consentId}/file`, download);
    assert.equal(download.text, file, 'the file comes back byte for byte');
    assert.match(String(download.headers['content-type']), /^application\/json/);
    const consumed = await h.get(`/file-payment-consents/${consentId}`);
    valid(`/file-payment-consents/${consentId}`, 'get', consumed);
    assert.equal(consumed.body.Data?.Status, 'Consumed');
  });

  it('rejects the transactions the funds do not cover, pays the rest, never beyond the overdraft', async () => {
    // aliceOther: balance 0, overdraft 500.00.
    const items = [item(h.bob, '300.00'), item(h.bob, '300.00'), item(h.bob, '150.00')];
    const { token, submission } = await authorisedFile(items, 750, h.aliceOther.id);
    const made = await h.post('/file-payments', submission, { token });
    assert.equal(made.status, 201, made.text);
    valid('/file-payments', 'post', made);
    assert.equal(made.body.Data?.Status, 'InitiationCompleted');
    assert.equal((await balanceOf(h.store.db, h.aliceOther.id)).bookedMinor, -45_000n);
    const id = String(made.body.Data?.FilePaymentId);
    const details = await h.get(`/file-payments/${id}/payment-details`);
    valid(`/file-payments/${id}/payment-details`, 'get', details);
    const statuses = details.body.Data?.PaymentStatus as Detail[];
    assert.deepEqual(
      statuses.map((d) => d.Status),
      ['AcceptedCreditSettlementCompleted', 'Rejected', 'AcceptedCreditSettlementCompleted'],
    );
    assert.match(statuses[1]?.StatusDetail?.StatusReasonDescription ?? '', /Insufficient funds/);
    const report = await h.get(`/file-payments/${id}/report-file`);
    validFile(`/file-payments/${id}/report-file`, report);
    const data = report.body.Data as {
      Accepted: { NumberOfTransactions: string; Amount: { Amount: string } };
      Rejected: { NumberOfTransactions: string; Amount: { Amount: string } };
      Transactions: { Status: string; StatusReasonDescription?: string }[];
    };
    assert.deepEqual([data.Accepted.NumberOfTransactions, data.Accepted.Amount.Amount], ['2', '450.00']);
    assert.deepEqual([data.Rejected.NumberOfTransactions, data.Rejected.Amount.Amount], ['1', '300.00']);
    assert.match(data.Transactions[1]?.StatusReasonDescription ?? '', /Insufficient funds/);

    // A file none of whose transactions can be paid failed as a whole.
    const broke = await authorisedFile([item(h.bob, '51.00'), item(h.bob, '60.00')], 111, h.aliceOther.id);
    const entries = await entriesCount();
    const failed = await h.post('/file-payments', broke.submission, { token: broke.token });
    assert.equal(failed.status, 201, failed.text);
    valid('/file-payments', 'post', failed);
    assert.equal(failed.body.Data?.Status, 'InitiationFailed');
    assert.equal(await entriesCount(), entries, 'nothing posted');
    assert.equal((await balanceOf(h.store.db, h.aliceOther.id)).bookedMinor, -45_000n);
  });
});

describe('file payment consents', () => {
  it('refuses what cannot be staged, with the spec codes', async () => {
    const file = fileOf([item(h.bob, '1.00')]);
    const future = new Date(h.clock.now().getTime() + 86_400_000).toISOString();
    const cases: [unknown, string, string | undefined][] = [
      [
        fileConsent(file, 1, 1, { FileType: 'UK.OBIE.pain.001.001.08' }),
        'UK.OBIE.Field.Invalid',
        'Data.Initiation.FileType',
      ],
      [
        fileConsent(file, 1, 1, { FileHash: 'not-a-hash' }),
        'UK.OBIE.Field.Invalid',
        'Data.Initiation.FileHash',
      ],
      [
        fileConsent(file, 1, 1, { RequestedExecutionDateTime: future }),
        'UK.OBIE.Field.InvalidDate',
        'Data.Initiation.RequestedExecutionDateTime',
      ],
      [
        fileConsent(file, 1, 1, { RequestedExecutionDateTime: 'tomorrow' }),
        'UK.OBIE.Field.InvalidDate',
        'Data.Initiation.RequestedExecutionDateTime',
      ],
      [fileConsent(file, 1, -1), 'UK.OBIE.Field.Invalid', 'Data.Initiation.ControlSum'],
      [fileConsent(file, 1, 1.000001), 'UK.OBIE.Field.Invalid', 'Data.Initiation.ControlSum'],
      [fileConsent(file, 0, 1), 'UK.OBIE.Field.Invalid', 'Data.Initiation.NumberOfTransactions'],
      [
        fileConsent(file, 1, 1, { LocalInstrument: 'UK.OBIE.SWIFT' }),
        'UK.OBIE.Unsupported.LocalInstrument',
        'Data.Initiation.LocalInstrument',
      ],
      [
        fileConsent(file, 1, 1, {
          DebtorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '99999912345678' },
        }),
        'UK.OBIE.Field.Invalid',
        'Data.Initiation.DebtorAccount',
      ],
      [{ ...fileConsent(file, 1, 1), Risk: {} }, 'UK.OBIE.Field.Unexpected', undefined],
      [
        { Data: { Initiation: { FileType: FILE_TYPE } } },
        'UK.OBIE.Field.Missing',
        'Data.Initiation.FileHash',
      ],
    ];
    for (const [body, code, path] of cases) {
      const refused = await h.post('/file-payment-consents', body);
      assert.equal(refused.status, 400, `${code}: ${refused.text}`);
      assert.equal(errorCode(refused), code, refused.text);
      if (path) assert.equal(refused.body.Errors?.[0]?.Path, path, refused.text);
      valid('/file-payment-consents', 'post', refused);
    }
  });

  it('answers 400 Resource.NotFound for a consent of nobody, or of another kind', async () => {
    const none = await h.get('/file-payment-consents/pfc-does-not-exist');
    assert.equal(none.status, 400);
    assert.equal(errorCode(none), 'UK.OBIE.Resource.NotFound');
    const domestic = await h.post('/domestic-payment-consents', {
      Data: {
        Initiation: {
          InstructionIdentification: 'i-1',
          EndToEndIdentification: 'e-1',
          InstructedAmount: { Amount: '1.00', Currency: 'GBP' },
          CreditorAccount: {
            SchemeName: 'UK.OBIE.SortCodeAccountNumber',
            Identification: `${h.bob.sortCode}${h.bob.accountNumber}`,
            Name: 'Bob',
          },
        },
      },
      Risk: {},
    });
    const other = await h.get(`/file-payment-consents/${String(domestic.body.Data?.ConsentId)}`);
    assert.equal(other.status, 400);
    assert.equal(errorCode(other), 'UK.OBIE.Resource.NotFound');
    const noFile = await h.get(`/file-payment-consents/${String(domestic.body.Data?.ConsentId)}/file`);
    assert.equal(noFile.status, 400);
  });
});

describe('file upload', () => {
  /** Stages a consent for exactly `file` (so its hash matches) and expects the upload refused. */
  async function refusedUpload(
    file: string,
    consent: ReturnType<typeof fileConsent>,
    code: string,
    path?: string,
  ): Promise<void> {
    const consentId = await stage(consent);
    const refused = await upload(consentId, file);
    assert.equal(refused.status, 400, `${code}: ${refused.text}`);
    assert.equal(errorCode(refused), code, refused.text);
    if (path) assert.equal(refused.body.Errors?.[0]?.Path, path, refused.text);
    valid(`/file-payment-consents/${consentId}/file`, 'post', refused);
    assert.equal(
      await statusOf(consentId),
      'AwaitingUpload',
      'a refused file leaves the consent awaiting one',
    );
    assert.equal((await h.get(`/file-payment-consents/${consentId}/file`)).status, 400, 'nothing stored');
  }

  it('refuses a file that is not the one the consent describes', async () => {
    const items = [item(h.bob, '1.00'), item(h.bob, '2.50')];
    const file = fileOf(items);
    // Another file than the hashed one.
    const consentId = await stage(fileConsent(file, 2, 3.5));
    const other = fileOf([item(h.bob, '1.00'), item(h.bob, '2.50')]);
    const refused = await upload(consentId, other);
    assert.equal(refused.status, 400);
    assert.equal(errorCode(refused), 'UK.OBIE.Resource.ConsentMismatch');
    assert.equal(refused.body.Errors?.[0]?.Path, 'Data.Initiation.FileHash');
    valid(`/file-payment-consents/${consentId}/file`, 'post', refused);
    assert.equal(await statusOf(consentId), 'AwaitingUpload');
    // The right file still goes in.
    assert.equal((await upload(consentId, file)).status, 200);
    assert.equal(await statusOf(consentId), 'AwaitingAuthorisation');

    await refusedUpload(
      file,
      fileConsent(file, 3, 3.5),
      'UK.OBIE.Resource.ConsentMismatch',
      'Data.Initiation.NumberOfTransactions',
    );
    await refusedUpload(
      file,
      fileConsent(file, 2, 3.49),
      'UK.OBIE.Resource.ConsentMismatch',
      'Data.Initiation.ControlSum',
    );
  });

  it('refuses a file with a bad transaction, naming it', async () => {
    const good = item(h.bob, '1.00');
    const scheme = item(h.bob, '1.00');
    scheme.CreditorAccount.SchemeName = 'UK.OBIE.PAN';
    const missingCreditor: Record<string, unknown> = item(h.bob, '1.00');
    delete missingCreditor.CreditorAccount;
    const cases: [unknown[], string, string][] = [
      [
        [good, item(h.bob, '1.001')],
        'UK.OBIE.Field.Invalid',
        'Data.DomesticPayments.1.InstructedAmount.Amount',
      ],
      [
        [good, item(h.bob, '0.00')],
        'UK.OBIE.Field.Invalid',
        'Data.DomesticPayments.1.InstructedAmount.Amount',
      ],
      [
        [good, item(h.bob, '1.00', { InstructedAmount: { Amount: '1.00', Currency: 'EUR' } })],
        'UK.OBIE.Unsupported.Currency',
        'Data.DomesticPayments.1.InstructedAmount.Currency',
      ],
      [[good, scheme], 'UK.OBIE.Unsupported.Scheme', 'Data.DomesticPayments.1.CreditorAccount.SchemeName'],
      [[good, missingCreditor], 'UK.OBIE.Field.Missing', 'Data.DomesticPayments.1.CreditorAccount'],
      [
        [good, item(h.bob, '1.00', { Colour: 'blue' })],
        'UK.OBIE.Field.Unexpected',
        'Data.DomesticPayments.1',
      ],
      [
        [good, { ...item(h.bob, '1.00'), InstructionIdentification: good.InstructionIdentification }],
        'UK.OBIE.Rules.DuplicateReference',
        'Data.DomesticPayments.1.InstructionIdentification',
      ],
      [[], 'UK.OBIE.Field.Invalid', 'Data.DomesticPayments'],
    ];
    for (const [items, code, path] of cases) {
      const file = fileOf(items);
      await refusedUpload(file, fileConsent(file, items.length || 1, 2), code, path);
    }
    const notJson = 'InstructionIdentification,Amount\nabc,1.00\n';
    await refusedUpload(notJson, fileConsent(notJson, 1, 1), 'UK.OBIE.Resource.InvalidFormat');
  });

  it('needs the file signed: a tampered file or signature is refused and stores nothing', async () => {
    const file = fileOf([item(h.bob, '5.00')]);
    const consentId = await stage(fileConsent(file, 1, 5));
    const tampered = file.replace('5.00', '5.01');
    const refused = await upload(consentId, tampered, { signature: await h.tppSigner.sign(file) });
    assert.equal(refused.status, 400);
    assert.equal(errorCode(refused), 'UK.OBIE.Signature.Invalid');
    valid(`/file-payment-consents/${consentId}/file`, 'post', refused);
    const unsigned = await upload(consentId, file, { signature: null });
    assert.equal(errorCode(unsigned), 'UK.OBIE.Signature.Missing');
    assert.equal(await statusOf(consentId), 'AwaitingUpload');
    // Uploaded as another media type than the file type's.
    const text = await upload(consentId, file, { contentType: 'text/plain' });
    assert.equal(text.status, 415, text.text);
    assert.equal(await statusOf(consentId), 'AwaitingUpload');
    const ok = await upload(consentId, file, { contentType: 'application/json; charset=utf-8' });
    assert.equal(ok.status, 200, ok.text);
  });

  it('takes one file: a retry with the key is answered again, another upload is refused', async () => {
    const file = fileOf([item(h.bob, '5.00')]);
    const consentId = await stage(fileConsent(file, 1, 5));
    const key = randomUUID();
    assert.equal((await upload(consentId, file, { key })).status, 200);
    const retry = await upload(consentId, file, { key });
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.text, '');
    const again = await upload(consentId, file);
    assert.equal(again.status, 400);
    assert.equal(errorCode(again), 'UK.OBIE.Resource.InvalidConsentStatus');
    valid(`/file-payment-consents/${consentId}/file`, 'post', again);
    assert.equal(await statusOf(consentId), 'AwaitingAuthorisation');
  });

  it('is the consent client’s own, over a client_credentials token', async () => {
    const file = fileOf([item(h.bob, '5.00')]);
    const consentId = await stage(fileConsent(file, 1, 5));
    const nobody = await upload('pfc-nobody', file);
    assert.equal(nobody.status, 400);
    assert.equal(errorCode(nobody), 'UK.OBIE.Resource.NotFound');
    const view = h.tokens.get(h.ccToken);
    assert.ok(view);
    const stranger = `cc-${randomUUID()}`;
    h.tokens.set(stranger, { ...view, clientId: 'client-b' });
    assert.equal((await h.get(`/file-payment-consents/${consentId}`, stranger)).status, 400);
    assert.equal((await upload(consentId, file)).status, 200);
    assert.equal((await h.get(`/file-payment-consents/${consentId}/file`, stranger)).status, 400);
    // The PSU's token is not the one to upload with.
    const other = await stage(fileConsent(file, 1, 5));
    const psu = `ac-${randomUUID()}`;
    h.tokens.set(psu, {
      ...view,
      grantType: 'authorization_code',
      intentId: other,
      customerId: h.customerId,
    });
    const refused = await upload(other, file, { token: psu });
    assert.equal(refused.status, 403, refused.text);
    assert.equal(await statusOf(other), 'AwaitingUpload');
  });
});

describe('file payment submission', () => {
  it('cannot happen before the upload: the consent cannot be authorised, nor used', async () => {
    const file = fileOf([item(h.bob, '5.00')]);
    const body = fileConsent(file, 1, 5);
    const consentId = await stage(body);
    await assert.rejects(h.authorise(consentId), /AwaitingUpload/);
    const view = h.tokens.get(h.ccToken);
    assert.ok(view);
    const token = `ac-${randomUUID()}`;
    h.tokens.set(token, {
      ...view,
      grantType: 'authorization_code',
      intentId: consentId,
      customerId: h.customerId,
    });
    const entries = await entriesCount();
    const refused = await h.post(
      '/file-payments',
      { Data: { ConsentId: consentId, Initiation: body.Data.Initiation } },
      { token },
    );
    assert.equal(refused.status, 403, refused.text);
    assert.equal(errorCode(refused), 'UK.OBIE.Resource.InvalidConsentStatus');
    valid('/file-payments', 'post', refused);
    assert.equal(await entriesCount(), entries);
  });

  it('must match the consent, and needs the PSU token', async () => {
    const { consentId, token, submission } = await authorisedFile([item(h.bob, '2.00')], 2);
    const entries = await entriesCount();
    const changed = structuredClone(submission);
    changed.Data.Initiation.ControlSum = 3;
    const mismatch = await h.post('/file-payments', changed, { token });
    assert.equal(mismatch.status, 400);
    assert.equal(errorCode(mismatch), 'UK.OBIE.Resource.ConsentMismatch');
    valid('/file-payments', 'post', mismatch);
    const otherConsent = structuredClone(submission);
    otherConsent.Data.ConsentId = 'pfc-other';
    assert.equal(
      errorCode(await h.post('/file-payments', otherConsent, { token })),
      'UK.OBIE.Resource.ConsentMismatch',
    );
    const withRisk = await h.post('/file-payments', { ...submission, Risk: {} }, { token });
    assert.equal(errorCode(withRisk), 'UK.OBIE.Field.Unexpected');
    const clientCredentials = await h.post('/file-payments', submission);
    assert.equal(clientCredentials.status, 401);
    assert.equal(await entriesCount(), entries);
    assert.equal(await statusOf(consentId), 'Authorised');
  });

  it('runs once: a retry with the key answers the same resource, pays nothing more; the key with another body is refused', async () => {
    const items = [item(h.bob, '1.10'), item(h.bob, '2.20')];
    const { token, submission } = await authorisedFile(items, 3.3);
    const before = (await balanceOf(h.store.db, h.alice.id)).bookedMinor;
    const key = randomUUID();
    const first = await h.post('/file-payments', submission, { token, key });
    assert.equal(first.status, 201, first.text);
    const entries = await entriesCount();
    const retry = await h.post('/file-payments', submission, { token, key });
    assert.equal(retry.status, 201, retry.text);
    valid('/file-payments', 'post', retry);
    assert.deepEqual(retry.body, first.body);
    assert.equal(await entriesCount(), entries, 'no second execution');
    assert.equal((await balanceOf(h.store.db, h.alice.id)).bookedMinor, before - 330n);

    const spaced = await h.post('/file-payments', undefined, {
      token,
      key,
      raw: JSON.stringify(submission, null, 1),
    });
    assert.equal(spaced.status, 400);
    assert.equal(errorCode(spaced), 'UK.OBIE.Header.Invalid');
    valid('/file-payments', 'post', spaced);
    const again = await h.post('/file-payments', submission, { token });
    assert.equal(again.status, 400);
    assert.equal(errorCode(again), 'UK.OBIE.Resource.InvalidConsentStatus');
    assert.equal(await entriesCount(), entries);
    assert.equal((await balanceOf(h.store.db, h.alice.id)).bookedMinor, before - 330n);
  });

  it('answers 400 Resource.NotFound for a file payment of nobody, of another kind, or a transaction id', async () => {
    const { token, submission } = await authorisedFile([item(h.bob, '1.00')], 1);
    const made = await h.post('/file-payments', submission, { token });
    const id = String(made.body.Data?.FilePaymentId);
    for (const path of [
      '/file-payments/fp-nobody',
      `/file-payments/${id}:1`,
      '/file-payments/fp-nobody/payment-details',
      '/file-payments/fp-nobody/report-file',
    ]) {
      const response = await h.get(path);
      assert.equal(response.status, 400, path);
      assert.equal(errorCode(response), 'UK.OBIE.Resource.NotFound');
    }
  });
});
