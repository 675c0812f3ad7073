import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  executePayment,
  findAccountsByIdentifications,
  fromMinor,
  getAccount,
  listPaymentsForConsent,
  newPaymentId,
  raisePaymentUpdate,
  recordInstruction,
  type AccountRecord,
  type PaymentRecord,
} from '../../bank/index.ts';
import { markFileUploaded, readDateTime, type Intent } from '../../consent/index.ts';
import { assertConsentVersion, assertPaymentVersion, assertSameVersion } from '../http/consent-version.ts';
import type { ApiVersion } from '../versions.ts';
import { PIS_WIRE } from './wire-mappings.ts';
import * as fileV4 from './v4.0/file.ts';
import { paymentStatus as paymentStatusV4 } from './v4.0/mapping.ts';
import { ObError } from '../errors.ts';
import { guard, guarded, guardedWithConsent, guardProfiles } from '../guard/index.ts';
import { idempotencyScopeOf, idempotent, type Db } from '../http/idempotency.ts';
import { asObError } from '../http/intent-errors.ts';
import { requireSignature } from '../http/jws.ts';
import { obDateTime } from '../http/wire.ts';
import {
  assertSubmissionMatchesConsent,
  chosenDebtorAccount,
  clientIdOf,
  creditorOf,
  debtorOf,
  namedDebtorAccount,
  paymentConsentBody,
  type PaymentsContext,
  paymentStatusDetail,
  rejectionText,
  stageConsent,
  submissionChecks,
  submitOnce,
} from './common.ts';
import {
  controlSumOf,
  fileHashOf,
  fileDescriptionShape,
  FILE_TYPES,
  MAX_FILE_TRANSACTIONS,
  type FileFormat,
  mediaTypeOf,
  readPaymentFile,
} from './payment-file.ts';
import {
  accountSchema,
  checkAccount,
  checkLocalInstrument,
  domesticConsentRequestSchema,
  parseBody,
  remittanceSchema,
} from './validation.ts';
import {
  ownedConsent as ownedConsentOf,
  ownedPayment as ownedPaymentOf,
  resourceNotFound,
} from '../http/owned-resources.ts';
import { rowsOf } from '../../shared/result-rows.ts';

/**
 * File payments (OB Read/Write v3.1.11 and v4.0, each version's bodies, file type and statuses from
 * FILE_WIRE): a consent staged with the file's metadata (AwaitingUpload), the
 * file uploaded against it (checked against the metadata, then AwaitingAuthorisation), authorised by the
 * PSU, and submitted: every transaction of the file is executed at once on the ledger from the debtor
 * account, each as its own payment (`<FilePaymentId>:<n>`, ledger origin `payment:<FilePaymentId>:<n>`),
 * in the one database transaction that consumes the consent and spends the idempotency key. A transaction
 * the ledger refuses (insufficient funds beyond the overdraft, …) is Rejected with nothing posted; the others
 * are paid. Only immediate files are offered: a RequestedExecutionDateTime in the future is refused.
 */

const text = (max: number) => z.string().min(1).max(max);

const fileInitiationSchema = z.strictObject({
  ...fileDescriptionShape,
  RequestedExecutionDateTime: z.string().optional(),
  LocalInstrument: z.string().optional(),
  DebtorAccount: accountSchema.optional(),
  RemittanceInformation: remittanceSchema.optional(),
  SupplementaryData: z.record(z.string(), z.unknown()).optional(),
});
type FileInitiation = z.infer<typeof fileInitiationSchema>;

/** What every version's file Initiation has, and the bank checks: the file's metadata. */
type FileMetadata = Pick<
  FileInitiation,
  | 'FileType'
  | 'FileHash'
  | 'FileReference'
  | 'NumberOfTransactions'
  | 'ControlSum'
  | 'RequestedExecutionDateTime'
  | 'LocalInstrument'
  | 'DebtorAccount'
>;

const consentData = domesticConsentRequestSchema.shape.Data.shape;
const fileConsentRequestSchema = z.strictObject({
  Data: z.strictObject({
    Initiation: fileInitiationSchema,
    Authorisation: consentData.Authorisation,
    SCASupportData: consentData.SCASupportData,
  }),
});

const filePaymentRequestSchema = z.strictObject({
  Data: z.strictObject({ ConsentId: text(128), Initiation: fileInitiationSchema }),
});

/** A file-payment consent carries no Risk (OBWriteFileConsent3); it is stored, and matched, as `{}`. */
const NO_RISK = {};

/** What a version supplies to the one set of file-payment handlers. */
interface FileWire {
  consentRequest: z.ZodType<{ Data: { Initiation: FileMetadata } & Record<string, unknown> }>;
  paymentRequest: z.ZodType<{ Data: { ConsentId: string; Initiation: FileMetadata } }>;
  /** The file types the version takes. */
  fileTypes: Readonly<Record<string, FileFormat>>;
  consentStatus(intent: Intent): string;
  consentOn(intent: Intent): Intent;
  initiation(initiation: unknown): unknown;
  /** The file payment's Status (and StatusReason) from its transactions. */
  paymentStatus(transactions: readonly PaymentRecord[]): Record<string, unknown>;
  /** A transaction's Status as the version writes it (the report file) and its payment-details entry. */
  transactionStatus(transaction: PaymentRecord): string;
  detail(transaction: PaymentRecord, at: string): Record<string, unknown>;
}

const FILE_WIRE: Record<ApiVersion, FileWire> = {
  'v3.1.11': {
    consentRequest: fileConsentRequestSchema,
    paymentRequest: filePaymentRequestSchema,
    fileTypes: FILE_TYPES,
    consentStatus: (intent) => intent.status,
    consentOn: (intent) => intent,
    initiation: (initiation) => initiation,
    paymentStatus: (transactions) => ({ Status: fileStatus(transactions) }),
    transactionStatus: (transaction) => transaction.status,
    detail: paymentStatusDetail,
  },
  // ---- Payment Initiation v4.0 (v4.0/file.ts)
  'v4.0': {
    consentRequest: fileV4.fileConsentRequestSchema,
    paymentRequest: fileV4.filePaymentRequestSchema,
    fileTypes: fileV4.FILE_TYPES_V4,
    consentStatus: (intent) => fileV4.fileConsentStatus(intent.status),
    consentOn: PIS_WIRE['v4.0'].consentOn,
    initiation: PIS_WIRE['v4.0'].initiation,
    paymentStatus: fileV4.filePaymentStatus,
    transactionStatus: (transaction) => paymentStatusV4(transaction.status),
    detail: PIS_WIRE['v4.0'].paymentStatusDetail,
  },
};

const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;

/** Every rule of a file Initiation that the consent alone can be checked against. */
function checkFileInitiation(
  initiation: FileMetadata,
  now: Date,
  fileTypes: Readonly<Record<string, FileFormat>>,
): void {
  const path = 'Data.Initiation';
  if (!(initiation.FileType in fileTypes))
    throw ObError.single(
      400,
      'UK.OBIE.Field.Invalid',
      `${path}.FileType ${initiation.FileType} is not supported (use ${Object.keys(fileTypes).join(', ')})`,
      `${path}.FileType`,
    );
  if (!BASE64_SHA256.test(initiation.FileHash))
    throw ObError.single(
      400,
      'UK.OBIE.Field.Invalid',
      `${path}.FileHash must be the base64 of a SHA-256 hash (44 characters)`,
      `${path}.FileHash`,
    );
  if (initiation.NumberOfTransactions !== undefined) {
    const count = BigInt(initiation.NumberOfTransactions);
    if (count < 1n || count > BigInt(MAX_FILE_TRANSACTIONS))
      throw ObError.single(
        400,
        'UK.OBIE.Field.Invalid',
        `${path}.NumberOfTransactions must be 1 to ${MAX_FILE_TRANSACTIONS}`,
        `${path}.NumberOfTransactions`,
      );
  }
  if (initiation.ControlSum !== undefined) controlSumOf(initiation.ControlSum, `${path}.ControlSum`);
  let executeAt: Date | undefined;
  try {
    executeAt = readDateTime(initiation, 'RequestedExecutionDateTime', path);
  } catch (error) {
    asObError(error);
  }
  if (executeAt && executeAt.getTime() > now.getTime())
    throw ObError.single(
      400,
      'UK.OBIE.Field.InvalidDate',
      `${path}.RequestedExecutionDateTime is in the future: this bank executes files on submission only (omit it, or give a time not after now)`,
      `${path}.RequestedExecutionDateTime`,
    );
  checkLocalInstrument(initiation.LocalInstrument, path);
  checkAccount(initiation.DebtorAccount, `${path}.DebtorAccount`);
}

interface StoredFile {
  contentType: string;
  content: string;
}

async function loadFile(db: Db, consentId: string): Promise<StoredFile | undefined> {
  const [row] = rowsOf<{ content_type: string; content: string }>(
    await db.execute(sql`select content_type, content from ob_payment_files where consent_id = ${consentId}`),
  );
  return row ? { contentType: row.content_type, content: row.content } : undefined;
}

/** The transactions of a file payment, in file order. */
async function transactionsOf(db: Db, payment: PaymentRecord): Promise<PaymentRecord[]> {
  const prefix = `${payment.id}:`;
  const index = (row: PaymentRecord) => Number(row.id.slice(prefix.length));
  return (await listPaymentsForConsent(db, payment.consentId))
    .filter((row) => row.kind === 'file' && row.id.startsWith(prefix))
    .sort((a, b) => index(a) - index(b));
}

/** InitiationFailed when the ledger refused every transaction; InitiationCompleted once the file ran. */
function fileStatus(transactions: readonly PaymentRecord[]): 'InitiationCompleted' | 'InitiationFailed' {
  return transactions.length > 0 && transactions.every((t) => t.status === 'Rejected')
    ? 'InitiationFailed'
    : 'InitiationCompleted';
}

function lastUpdate(payment: PaymentRecord, transactions: readonly PaymentRecord[]): Date {
  return transactions.reduce(
    (latest, t) => (t.statusUpdatedAt > latest ? t.statusUpdatedAt : latest),
    payment.statusUpdatedAt,
  );
}

export function filePayments(scope: FastifyInstance, context: PaymentsContext): void {
  const { db, clock } = context;
  const base = context.publicBaseUrl;
  const consentGuard = guard(guardProfiles.consentEndpoint('payments'), context.guard);
  const signed = requireSignature(context.signatures, clientIdOf);
  const version = context.version ?? 'v3.1.11';
  const wire = FILE_WIRE[version];
  const consentBody = (intent: Intent, debtor: AccountRecord | undefined) =>
    paymentConsentBody(
      wire.consentOn(intent),
      `${base}/file-payment-consents/${intent.id}`,
      debtor,
      undefined,
      wire.consentStatus(intent),
    );

  const ownedConsent = async (clientId: string, consentId: string) =>
    assertConsentVersion(await ownedConsentOf(db, clientId, consentId, 'file-payment'), version, 'consent');

  scope.post('/file-payment-consents', { preHandler: [consentGuard, signed] }, async (request, reply) => {
    const clientId = guarded(request).token.clientId;
    const body = parseBody(wire.consentRequest, request.body);
    const initiation = body.Data.Initiation;
    checkFileInitiation(initiation, clock.now(), wire.fileTypes);
    await namedDebtorAccount(db, initiation.DebtorAccount);
    return stageConsent(
      context,
      request,
      reply,
      { kind: 'file-payment', clientId, data: body.Data, risk: NO_RISK, apiVersion: version },
      (intent) => consentBody(intent, undefined),
    );
  });

  scope.get<{ Params: { ConsentId: string } }>(
    '/file-payment-consents/:ConsentId',
    { preHandler: consentGuard },
    async (request) => {
      const intent = await ownedConsent(guarded(request).token.clientId, request.params.ConsentId);
      return consentBody(intent, await chosenDebtorAccount(db, intent));
    },
  );

  // The upload takes the file's own bytes, whatever its media type: a scope of its own whose body parser
  // keeps them raw (for the signature, the idempotency hash and FileHash) and parses nothing.
  void scope.register(async (uploads) => {
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
      request.rawBody = body as Buffer;
      done(null, undefined);
    });
    uploads.post<{ Params: { ConsentId: string } }>(
      '/file-payment-consents/:ConsentId/file',
      { preHandler: [consentGuard, signed] },
      async (request, reply) => {
        const clientId = guarded(request).token.clientId;
        const intent = await ownedConsent(clientId, request.params.ConsentId);
        // The file is part of staging: uploaded in the version the consent was staged in.
        assertSameVersion(intent, version);
        const initiation = intent.data.Initiation as FileMetadata;
        const mediaType = wire.fileTypes[initiation.FileType]?.mediaType;
        if (mediaTypeOf(request.headers['content-type']) !== mediaType)
          throw ObError.single(
            415,
            'UK.OBIE.Header.Invalid',
            `a ${initiation.FileType} file is uploaded as ${mediaType ?? 'nothing we take'}`,
            'content-type',
          );
        const bytes = request.rawBody ?? Buffer.alloc(0);
        const outcome = await idempotent(context, idempotencyScopeOf(request, clientId), async (tx) => {
          // The transition first: a second upload is refused for what it is, whatever the file. A file
          // that fails its checks rolls the transition back, and the consent stays AwaitingUpload.
          await markFileUploaded({ db: tx, clock }, intent.id, `file of ${bytes.length} bytes`).catch(
            asObError,
          );
          readPaymentFile(bytes, initiation, wire.fileTypes);
          await tx.execute(sql`
            insert into ob_payment_files (consent_id, client_id, content_type, content, sha256, uploaded_at)
            values (${intent.id}, ${clientId}, ${mediaType ?? ''}, ${Buffer.from(bytes).toString('utf8')},
                    ${fileHashOf(bytes)}, ${clock.now().toISOString()}::timestamptz)`);
          return { status: 200, body: null };
        });
        // OB: 200 with no body (so nothing to sign).
        return reply.status(outcome.status).send();
      },
    );
  });

  scope.get<{ Params: { ConsentId: string } }>(
    '/file-payment-consents/:ConsentId/file',
    { preHandler: consentGuard },
    async (request, reply) => {
      const intent = await ownedConsent(guarded(request).token.clientId, request.params.ConsentId);
      const file = await loadFile(db, intent.id);
      if (!file) throw resourceNotFound(`no file has been uploaded to ${intent.id}`);
      // Sent as the string it was uploaded as (checked UTF-8): the bank's signature covers these bytes.
      return reply.type(file.contentType).send(file.content);
    },
  );

  const resourceBody = async (payment: PaymentRecord, on: Db = db) => {
    const transactions = await transactionsOf(on, payment);
    const debtor = await getAccount(on, payment.debtorAccountId);
    return {
      transactions,
      body: {
        Data: {
          FilePaymentId: payment.id,
          ConsentId: payment.consentId,
          CreationDateTime: obDateTime(payment.createdAt),
          ...wire.paymentStatus(transactions),
          StatusUpdateDateTime: obDateTime(lastUpdate(payment, transactions)),
          Initiation: wire.initiation(payment.request.Initiation),
          ...(debtor ? { Debtor: debtorOf(debtor) } : {}),
        },
        Links: { Self: `${base}/file-payments/${payment.id}` },
        Meta: {},
      },
    };
  };

  scope.post(
    '/file-payments',
    { preHandler: [guard(submissionChecks(['file-payment'], true), context.guard), signed] },
    async (request, reply) => {
      const state = guardedWithConsent(request);
      const intent = state.intent;
      // PIS release management: a payment-order is created in the version its consent was staged in.
      assertSameVersion(intent, version);
      const body = parseBody(wire.paymentRequest, request.body);
      assertSubmissionMatchesConsent(intent, { Data: body.Data, Risk: NO_RISK });
      const initiation = body.Data.Initiation;
      // The file cannot change once uploaded (one upload, before authorisation): read it before the work.
      const stored = await loadFile(db, intent.id);
      if (!stored)
        throw ObError.single(
          400,
          'UK.OBIE.Resource.InvalidConsentStatus',
          'no file was uploaded to this consent',
        );
      const file = readPaymentFile(Buffer.from(stored.content, 'utf8'), initiation, wire.fileTypes);
      return submitOnce(context, request, reply, intent, {
        namedDebtor: file.debtor,
        detail: `file payment of ${file.transactions.length} transactions submitted`,
        async execute(tx, account) {
          const id = newPaymentId('file');
          const payment = await recordInstruction(
            tx,
            { clock },
            {
              id,
              kind: 'file',
              consentId: intent.id,
              clientId: intent.clientId,
              ...(intent.customerId ? { customerId: intent.customerId } : {}),
              debtorAccountId: account.id,
              amountMinor: file.totalMinor,
              currency: file.currency,
              request: body.Data,
            },
          );
          // Every payee's account here in one statement, not one look-up per transaction.
          const creditors = file.transactions.map(({ initiation }) => creditorOf(initiation.CreditorAccount));
          const creditorAccounts = await findAccountsByIdentifications(
            tx,
            creditors.map(({ schemeName, identification }) => ({
              schemeName: schemeName ?? '',
              identification: identification ?? '',
            })),
          );
          for (const [at, transaction] of file.transactions.entries()) {
            const item = transaction.initiation;
            await executePayment(
              tx,
              { clock },
              {
                id: `${id}:${transaction.index}`,
                kind: 'file',
                consentId: intent.id,
                clientId: intent.clientId,
                ...(intent.customerId ? { customerId: intent.customerId } : {}),
                debtorAccountId: account.id,
                debtorAccount: account,
                amountMinor: transaction.amountMinor,
                currency: item.InstructedAmount.Currency,
                creditor: creditors[at]!,
                creditorAccount: creditorAccounts[at] ?? null,
                reference: transaction.reference,
                request: { FilePaymentId: id, Index: transaction.index, Initiation: item },
              },
            );
          }
          // The file's outcome (its transactions paid or rejected) is the file payment's update.
          await raisePaymentUpdate(tx, { clock }, payment);
          return (await resourceBody(payment, tx)).body;
        },
      });
    },
  );

  // Transaction ids (`<id>:<n>`) are not resource ids: RESOURCE_ID has no colon.
  const ownedPayment = async (clientId: string, id: string) =>
    assertPaymentVersion(db, await ownedPaymentOf(db, clientId, id, 'file'), version);

  scope.get<{ Params: { FilePaymentId: string } }>(
    '/file-payments/:FilePaymentId',
    { preHandler: consentGuard },
    async (request) => {
      const payment = await ownedPayment(guarded(request).token.clientId, request.params.FilePaymentId);
      return (await resourceBody(payment)).body;
    },
  );

  scope.get<{ Params: { FilePaymentId: string } }>(
    '/file-payments/:FilePaymentId/payment-details',
    { preHandler: consentGuard },
    async (request) => {
      const payment = await ownedPayment(guarded(request).token.clientId, request.params.FilePaymentId);
      const transactions = await transactionsOf(db, payment);
      return {
        Data: {
          PaymentStatus: transactions.map((t) => wire.detail(t, obDateTime(t.statusUpdatedAt))),
        },
        Links: { Self: `${base}/file-payments/${payment.id}/payment-details` },
        Meta: {},
      };
    },
  );

  /**
   * The report file (`application/json`; the spec leaves its format to the bank):
   *
   *   { "Data": {
   *       "FilePaymentId", "ConsentId", "FileType", "FileHash", "FileReference"?,
   *       "Status": "InitiationCompleted" | "InitiationFailed", "StatusUpdateDateTime",
   *       "NumberOfTransactions": "<n>", "ControlSum": "<sum of the amounts>",
   *       "Accepted": { "NumberOfTransactions", "Amount": { "Amount", "Currency" } },
   *       "Rejected": { "NumberOfTransactions", "Amount": { "Amount", "Currency" } },
   *       "Transactions": [ { "Index" (1-based, file order), "InstructionIdentification",
   *           "EndToEndIdentification", "InstructedAmount", "CreditorAccount", "PaymentTransactionId",
   *           "Status" (OBTransactionIndividualStatus1Code), "StatusUpdateDateTime",
   *           "StatusReasonDescription"? (why it was rejected) }, … ] },
   *     "Links": { "Self" }, "Meta": {} }
   */
  scope.get<{ Params: { FilePaymentId: string } }>(
    '/file-payments/:FilePaymentId/report-file',
    { preHandler: consentGuard },
    async (request, reply) => {
      const payment = await ownedPayment(guarded(request).token.clientId, request.params.FilePaymentId);
      const transactions = await transactionsOf(db, payment);
      const initiation = payment.request.Initiation as FileMetadata;
      const money = (rows: readonly PaymentRecord[]) => ({
        NumberOfTransactions: String(rows.length),
        Amount: {
          Amount: fromMinor(
            rows.reduce((sum, t) => sum + t.amountMinor, 0n),
            payment.currency,
          ),
          Currency: payment.currency,
        },
      });
      const rejected = transactions.filter((t) => t.status === 'Rejected');
      const report = {
        Data: {
          FilePaymentId: payment.id,
          ConsentId: payment.consentId,
          FileType: initiation.FileType,
          FileHash: initiation.FileHash,
          ...(initiation.FileReference !== undefined ? { FileReference: initiation.FileReference } : {}),
          Status: wire.paymentStatus(transactions).Status,
          StatusUpdateDateTime: obDateTime(lastUpdate(payment, transactions)),
          NumberOfTransactions: String(transactions.length),
          ControlSum: fromMinor(payment.amountMinor, payment.currency),
          Accepted: money(transactions.filter((t) => t.status !== 'Rejected')),
          Rejected: money(rejected),
          Transactions: transactions.map((t) => {
            const item = (t.request as { Index: number; Initiation: Record<string, unknown> }).Initiation;
            const index = (t.request as { Index: number }).Index;
            return {
              Index: index,
              InstructionIdentification: item.InstructionIdentification,
              EndToEndIdentification: item.EndToEndIdentification,
              InstructedAmount: item.InstructedAmount,
              CreditorAccount: item.CreditorAccount,
              PaymentTransactionId: t.entryId ?? t.id,
              Status: wire.transactionStatus(t),
              StatusUpdateDateTime: obDateTime(t.statusUpdatedAt),
              ...(t.status === 'Rejected' ? { StatusReasonDescription: rejectionText(t.reason) } : {}),
            };
          }),
        },
        Links: { Self: `${base}/file-payments/${payment.id}/report-file` },
        Meta: {},
      };
      return reply.type('application/json').send(JSON.stringify(report));
    },
  );
}
