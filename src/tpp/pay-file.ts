import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connectToBank } from './bank.ts';
import { updateBundleSummary, type Bundle } from './bundle.ts';
import { clientCredentialsToken } from './authorization.ts';
import { TppUsageError } from './errors.ts';
import { describeFailure } from './http.ts';
import { apiBaseOf, callApi } from './open-banking.ts';
import { findRegistration } from './accounts.ts';
import { authoriseIntent, type AuthorisedBy } from './psu-authorisation.ts';
import { signedPost } from './pay.ts';

/**
 * The file-payment journey of a PISP (PIS API v3.1.11): stage a file-payment consent bound to the file's
 * SHA-256, NumberOfTransactions and ControlSum, upload the file's exact bytes (signed), have the PSU
 * authorise, submit, and read the bank's payment-details per transaction. The file type offered is
 * `UK.OBIE.PaymentInitiation.3.1`: `{ "Data": { "DomesticPayments": [ OBWriteDomestic2 Initiation, … ] } }`.
 */

export const FILE_TYPE = 'UK.OBIE.PaymentInitiation.3.1';
/** The bank's limit of transactions in one file. */
const MAX_TRANSACTIONS = 5000;
/** OBActiveCurrencyAndAmount_SimpleType. */
const AMOUNT = /^\d{1,13}(\.\d{1,5})?$/;
const SCALE = 5;

export interface PaymentFilePlan {
  bytes: Buffer;
  initiation: {
    FileType: string;
    FileHash: string;
    NumberOfTransactions: string;
    ControlSum: number;
  };
}

function invalidFile(file: string, why: string): TppUsageError {
  return new TppUsageError(`--file ${file}: ${why}`);
}

/**
 * Reads the file and checks what the consent's metadata depends on (the spec's limits on each amount and
 * the file's size); the bank checks each transaction in full at upload.
 */
export function planPaymentFile(file: string): PaymentFilePlan {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw invalidFile(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let document: unknown;
  try {
    document = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalidFile(file, `is not JSON (a ${FILE_TYPE} file is a JSON document)`);
  }
  const items = (document as { Data?: { DomesticPayments?: unknown } } | null)?.Data?.DomesticPayments;
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_TRANSACTIONS)
    throw invalidFile(
      file,
      `must be {"Data":{"DomesticPayments":[…]}} with 1 to ${MAX_TRANSACTIONS} domestic payment initiations`,
    );
  let total = 0n;
  items.forEach((item: unknown, index) => {
    const amount = (item as { InstructedAmount?: { Amount?: unknown } } | null)?.InstructedAmount?.Amount;
    if (typeof amount !== 'string' || !AMOUNT.test(amount) || Number(amount) <= 0)
      throw invalidFile(
        file,
        `Data.DomesticPayments.${index}.InstructedAmount.Amount must be a positive decimal such as 10.50`,
      );
    const [whole = '0', fraction = ''] = amount.split('.');
    total += BigInt(whole + fraction.padEnd(SCALE, '0'));
  });
  const digits = total.toString().padStart(SCALE + 1, '0');
  return {
    bytes,
    initiation: {
      FileType: FILE_TYPE,
      FileHash: createHash('sha256').update(bytes).digest('base64'),
      NumberOfTransactions: String(items.length),
      ControlSum: Number(`${digits.slice(0, -SCALE)}.${digits.slice(-SCALE)}`),
    },
  };
}

export interface PayFileOptions {
  bundle: Bundle;
  file: string;
  bank?: string;
  trust: string[];
  psu?: string;
  manual?: boolean;
  askForRedirect(authorizationUrl: URL): Promise<string>;
  progress?: (line: string) => void;
}

export interface TransactionStatus {
  PaymentTransactionId?: string;
  Status?: string;
  StatusUpdateDateTime?: string;
  StatusDetail?: { StatusReason?: string; StatusReasonDescription?: string; Status?: string };
}

export interface PayFileResult {
  consentId: string;
  authorisedBy: AuthorisedBy;
  filePaymentId: string;
  /** The file payment (OBWriteFileResponse3 `Data`). */
  payment: Record<string, unknown> & { Status: string; FilePaymentId: string };
  /** The bank's payment-details: one status per transaction of the file, in file order. */
  transactions: TransactionStatus[];
}

export async function runPayFileJourney(options: PayFileOptions): Promise<PayFileResult> {
  const progress = options.progress ?? (() => undefined);
  const { bundle } = options;
  const plan = planPaymentFile(options.file);
  const { registration } = findRegistration(bundle, options.bank);
  const redirectUri = bundle.summary.software.redirectUris[0];
  if (!redirectUri) throw new TppUsageError('the software statement has no redirect URI');

  const bank = await connectToBank(bundle, {
    discoveryUrl: registration.discoveryUrl,
    trust: options.trust,
    clientId: registration.clientId,
    authMethod: registration.tokenEndpointAuthMethod ?? 'private_key_jwt',
  });
  try {
    const pisp = `${apiBaseOf(bank)}/pisp`;
    const clientToken = await clientCredentialsToken(bank, 'payments');
    const staged = await signedPost(bank, bundle, clientToken.access_token, `${pisp}/file-payment-consents`, {
      Data: { Initiation: plan.initiation },
    });
    if (staged.status !== 201) throw describeFailure('staging the file-payment consent', staged);
    const consentId = (staged.json as { Data: { ConsentId: string } }).Data.ConsentId;
    progress(`staged file-payment consent ${consentId}`);
    updateBundleSummary(bundle.dir, (summary) => {
      summary.consents.push({
        consentId,
        kind: 'file-payment',
        bank: bank.issuer,
        createdAt: new Date().toISOString(),
        status: 'AwaitingUpload',
      });
    });

    const uploaded = await signedPost(
      bank,
      bundle,
      clientToken.access_token,
      `${pisp}/file-payment-consents/${encodeURIComponent(consentId)}/file`,
      plan.bytes.toString('utf8'),
    );
    if (uploaded.status !== 200) throw describeFailure('uploading the payment file', uploaded);
    progress(`uploaded the file (${plan.initiation.NumberOfTransactions} transactions)`);

    const { tokens, authorisedBy } = await authoriseIntent(bank, {
      intentId: consentId,
      scope: 'payments',
      redirectUri,
      psu: options.psu ?? 'alice',
      manual: Boolean(options.manual),
      askForRedirect: options.askForRedirect,
      progress,
    });

    const submitted = await signedPost(bank, bundle, tokens.access_token, `${pisp}/file-payments`, {
      Data: { ConsentId: consentId, Initiation: plan.initiation },
    });
    if (submitted.status !== 201) throw describeFailure('submitting the file payment', submitted);
    const payment = (submitted.json as { Data: PayFileResult['payment'] }).Data;
    const filePaymentId = payment.FilePaymentId;
    progress(`submitted file payment ${filePaymentId}: ${payment.Status}`);
    updateBundleSummary(bundle.dir, (summary) => {
      const record = summary.consents.find((c) => c.consentId === consentId);
      if (record) record.status = 'Consumed';
    });

    const details = await callApi(
      bank,
      clientToken.access_token,
      `${pisp}/file-payments/${encodeURIComponent(filePaymentId)}/payment-details`,
    );
    if (details.status !== 200) throw describeFailure('reading the payment-details', details);
    const transactions =
      (details.json as { Data?: { PaymentStatus?: TransactionStatus[] } }).Data?.PaymentStatus ?? [];
    return { consentId, authorisedBy, filePaymentId, payment, transactions };
  } finally {
    await bank.close();
  }
}

/** What a person reads: the file payment's status, then each transaction's. */
export function formatPayFile(result: PayFileResult): string {
  const lines = [
    `file payment ${result.filePaymentId}  ${result.payment.Status}  consent ${result.consentId}`,
  ];
  result.transactions.forEach((transaction, index) => {
    const detail = transaction.StatusDetail;
    const reason = detail?.StatusReasonDescription ?? detail?.StatusReason;
    lines.push(
      `  ${index + 1}. ${transaction.PaymentTransactionId ?? '?'}  ${transaction.Status ?? '?'}${reason && transaction.Status === 'Rejected' ? `: ${reason}` : ''}`,
    );
  });
  return `${lines.join('\n')}\n`;
}
