import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { runConsentJourney, type ConsentJourneyOptions } from './consent-journey.ts';
import { TppUsageError } from './errors.ts';
import { describeFailure } from './http.ts';
import { callApi, type ReadWriteVersion } from './open-banking.ts';
import type { AuthorisedBy } from './psu-authorisation.ts';
import { isRejected } from './payment-versions.ts';
import { signedPost, stagePaymentConsent } from './pay.ts';

/**
 * The file-payment journey of a PISP (PIS API v4.0 by default, or v3.1.11): stage a file-payment consent
 * bound to the file's SHA-256, NumberOfTransactions and ControlSum, upload the file's exact bytes
 * (signed), have the PSU authorise, submit, and read the bank's payment-details per transaction. The file
 * type is the version's own JSON file: `{ "Data": { "DomesticPayments": [ domestic Initiation, … ] } }`
 * with each Initiation as that version writes it (v4.0: structured RemittanceInformation).
 */

/** The JSON payment file type of each version (OBWriteFileConsent FileType). */
export const FILE_TYPES: Readonly<Record<ReadWriteVersion, string>> = {
  '3.1.11': 'UK.OBIE.PaymentInitiation.3.1',
  '4.0': 'UK.OBIE.PaymentInitiation.4.0',
};
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
export function planPaymentFile(file: string, apiVersion: ReadWriteVersion = '4.0'): PaymentFilePlan {
  const fileType = FILE_TYPES[apiVersion];
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
    throw invalidFile(file, `is not JSON (a ${fileType} file is a JSON document)`);
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
      FileType: fileType,
      FileHash: createHash('sha256').update(bytes).digest('base64'),
      NumberOfTransactions: String(items.length),
      ControlSum: Number(`${digits.slice(0, -SCALE)}.${digits.slice(-SCALE)}`),
    },
  };
}

export interface PayFileOptions extends ConsentJourneyOptions {
  file: string;
  /** Default 4.0. */
  apiVersion?: ReadWriteVersion;
}

export interface TransactionStatus {
  PaymentTransactionId?: string;
  Status?: string;
  StatusUpdateDateTime?: string;
  StatusDetail?: { StatusReason?: string; StatusReasonDescription?: string; Status?: string };
}

export interface PayFileResult {
  apiVersion: ReadWriteVersion;
  consentId: string;
  authorisedBy: AuthorisedBy;
  filePaymentId: string;
  /** The file payment (OBWriteFileResponse3 `Data`), in the version's words. */
  payment: Record<string, unknown> & { Status: string; FilePaymentId: string };
  /** The bank's payment-details: one status per transaction of the file, in file order. */
  transactions: TransactionStatus[];
}

export async function runPayFileJourney(options: PayFileOptions): Promise<PayFileResult> {
  const apiVersion = options.apiVersion ?? '4.0';
  const plan = planPaymentFile(options.file, apiVersion);
  return runConsentJourney(
    options,
    async ({ bank, progress, recordConsent, setConsentStatus, authorise }) => {
      const { bundle } = options;
      const { pisp, clientToken, consent } = await stagePaymentConsent(bank, bundle, {
        apiVersion,
        path: '/file-payment-consents',
        body: { Data: { Initiation: plan.initiation } },
        served: 'file payments',
        what: 'file-payment',
      });
      const consentId = consent.ConsentId;
      progress(`staged file-payment consent ${consentId} (v${apiVersion})`);
      recordConsent(consentId, 'file-payment', 'AwaitingUpload');

      const uploaded = await signedPost(
        bank,
        bundle,
        clientToken,
        `${pisp}/file-payment-consents/${encodeURIComponent(consentId)}/file`,
        plan.bytes.toString('utf8'),
      );
      if (uploaded.status !== 200) throw describeFailure('uploading the payment file', uploaded);
      progress(`uploaded the file (${plan.initiation.NumberOfTransactions} transactions)`);

      const { tokens, authorisedBy } = await authorise(consentId, 'payments');
      const submitted = await signedPost(bank, bundle, tokens.access_token, `${pisp}/file-payments`, {
        Data: { ConsentId: consentId, Initiation: plan.initiation },
      });
      if (submitted.status !== 201) throw describeFailure('submitting the file payment', submitted);
      const payment = (submitted.json as { Data: PayFileResult['payment'] }).Data;
      const filePaymentId = payment.FilePaymentId;
      progress(`submitted file payment ${filePaymentId}: ${payment.Status}`);
      setConsentStatus(consentId, 'Consumed');

      const details = await callApi(
        bank,
        clientToken,
        `${pisp}/file-payments/${encodeURIComponent(filePaymentId)}/payment-details`,
      );
      if (details.status !== 200) throw describeFailure('reading the payment-details', details);
      const transactions =
        (details.json as { Data?: { PaymentStatus?: TransactionStatus[] } }).Data?.PaymentStatus ?? [];
      return { apiVersion, consentId, authorisedBy, filePaymentId, payment, transactions };
    },
  );
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
      `  ${index + 1}. ${transaction.PaymentTransactionId ?? '?'}  ${transaction.Status ?? '?'}${reason && isRejected(transaction.Status) ? `: ${reason}` : ''}`,
    );
  });
  return `${lines.join('\n')}\n`;
}
