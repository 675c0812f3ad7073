import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ObError } from '../errors.ts';
import {
  checkDomesticInitiation,
  domesticInitiationSchema,
  parseBody,
  type DomesticInitiation,
} from './validation.ts';

/**
 * The payment files a file-payment consent can carry, and the checks an upload must pass before the PSU is
 * asked to authorise it.
 *
 * One file type per version is offered: on v3.1.11 `UK.OBIE.PaymentInitiation.3.1` (FILE_TYPES here), on
 * v4.0 `UK.OBIE.PaymentInitiation.4.0` (v4.0/file.ts): a JSON document (uploaded as `application/json`)
 * whose items are that version's domestic payment initiations, as OBWriteDomestic2 `Data.Initiation` (v3.1.11's
 * shape below; v4.0's with OBRemittanceInformation2, UltimateCreditor, …):
 *
 *   { "Data": { "DomesticPayments": [
 *       { "InstructionIdentification": "…", "EndToEndIdentification": "…", "LocalInstrument"?: "UK.OBIE.FPS",
 *         "InstructedAmount": { "Amount": "10.50", "Currency": "GBP" }, "DebtorAccount"?: {…},
 *         "CreditorAccount": { "SchemeName": "…", "Identification": "…", "Name": "…" },
 *         "RemittanceInformation"?: { "Reference"?: "…", "Unstructured"?: "…" } }, … ] } }
 *
 * The consent's metadata binds the file: FileHash (base64 of the SHA-256 of the exact bytes) always, and
 * NumberOfTransactions and ControlSum (the sum of the amounts) when given; a file that does not match is
 * refused with `UK.OBIE.Resource.ConsentMismatch`. A file that cannot be read is
 * `UK.OBIE.Resource.InvalidFormat`; a bad transaction gets the same Field/Unsupported codes as a single
 * domestic payment, with the path of the item in the file (`Data.DomesticPayments.2.InstructedAmount.Amount`).
 */

/** At most this many transactions in one file. */
export const MAX_FILE_TRANSACTIONS = 5000;

/** What of a file's item the bank checks and pays: a domestic Initiation, in any version's shape. */
export type FileItem = Pick<
  DomesticInitiation,
  | 'InstructionIdentification'
  | 'EndToEndIdentification'
  | 'LocalInstrument'
  | 'InstructedAmount'
  | 'DebtorAccount'
  | 'CreditorAccount'
>;

/** A file type: the media type it is uploaded and downloaded as, and how its transactions are read. */
export interface FileFormat {
  mediaType: string;
  /** The file's items, each checked against the type's schema, with the reference both statements show. */
  items(document: unknown): { item: FileItem; reference: string }[];
}

/**
 * A JSON file type whose `Data.DomesticPayments` are Initiations of `schema` (a version's domestic
 * Initiation), each paid with the reference `reference` gives it.
 */
export function domesticPaymentsFile<T extends FileItem>(
  schema: z.ZodType<T>,
  reference: (item: T) => string,
): FileFormat {
  const fileSchema = z.strictObject({
    Data: z.strictObject({ DomesticPayments: z.array(schema).min(1).max(MAX_FILE_TRANSACTIONS) }),
  });
  return {
    mediaType: 'application/json',
    items: (document) =>
      parseBody(fileSchema, document).Data.DomesticPayments.map((item) => ({
        item,
        reference: reference(item),
      })),
  };
}

/**
 * The fields of a file Initiation that describe the file, the same on every version (each version's schema
 * spreads them first and adds its own): what an upload is checked against.
 */
export const fileDescriptionShape = {
  FileType: z.string().min(1).max(256),
  FileHash: z.string().min(1).max(44),
  FileReference: z.string().min(1).max(40).optional(),
  NumberOfTransactions: z
    .string()
    .regex(/^[0-9]{1,15}$/, { message: 'must be a count of 1 to 15 digits' })
    .optional(),
  ControlSum: z.number().optional(),
};

/** The file types v3.1.11 takes: domestic Initiations of v3.1.11. */
export const FILE_TYPES: Readonly<Record<string, FileFormat>> = {
  'UK.OBIE.PaymentInitiation.3.1': domesticPaymentsFile(
    domesticInitiationSchema,
    (item) => item.RemittanceInformation?.Reference ?? item.EndToEndIdentification,
  ),
};

/** Domestic payments only: every amount of a file is in this currency. */
export const FILE_CURRENCY = 'GBP';

/** What of the consent's Initiation an upload is checked against. */
export interface FileTerms {
  FileType: string;
  FileHash: string;
  NumberOfTransactions?: string | undefined;
  ControlSum?: number | undefined;
  LocalInstrument?: string | undefined;
  DebtorAccount?: { SchemeName: string; Identification: string } | undefined;
}

export interface FileTransaction {
  /** 1-based position in the file. */
  index: number;
  /** The item as in the file, with the file's LocalInstrument when the item names none. */
  initiation: FileItem;
  amountMinor: bigint;
  /** The reference both statements show. */
  reference: string;
}

export interface PaymentFile {
  transactions: FileTransaction[];
  totalMinor: bigint;
  currency: string;
  /** The debtor account the consent or the file names, when either does. */
  debtor: { SchemeName: string; Identification: string } | undefined;
}

/** Base64 of the SHA-256 of the bytes: what FileHash must be. */
export function fileHashOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}

/** The media type of a Content-Type header value, lower-cased, without parameters. */
export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** A decimal amount (at most 5 decimals, as OB amounts have) in units of 10^-5, for exact sums. */
const SCALE = 5;
function scaled(decimal: string): bigint {
  const [whole = '0', fraction = ''] = decimal.split('.');
  return BigInt(whole + fraction.padEnd(SCALE, '0'));
}

/**
 * ControlSum is a JSON number: its shortest decimal form must be a positive amount of at most 5 decimals.
 * Returns it in units of 10^-5.
 */
export function controlSumOf(value: number, path: string): bigint {
  const text = String(value);
  if (!Number.isFinite(value) || value <= 0 || !/^\d{1,15}(\.\d{1,5})?$/.test(text))
    throw ObError.single(
      400,
      'UK.OBIE.Field.Invalid',
      `${path} must be a positive amount with at most ${SCALE} decimals`,
      path,
    );
  return scaled(text);
}

const sameAccount = (
  a: { SchemeName: string; Identification: string },
  b: { SchemeName: string; Identification: string },
) =>
  a.SchemeName === b.SchemeName &&
  a.Identification.replace(/\s/g, '').toUpperCase() === b.Identification.replace(/\s/g, '').toUpperCase();

function mismatch(path: string, message: string): ObError {
  return ObError.single(400, 'UK.OBIE.Resource.ConsentMismatch', message, path);
}

/**
 * Reads and checks an uploaded file against its consent: the hash, the format, every transaction, the
 * count and the control sum. Throws the OB error of the first problem.
 */
export function readPaymentFile(
  bytes: Uint8Array,
  terms: FileTerms,
  fileTypes: Readonly<Record<string, FileFormat>> = FILE_TYPES,
): PaymentFile {
  const format = fileTypes[terms.FileType];
  if (!format)
    throw ObError.single(400, 'UK.OBIE.Field.Invalid', `file type ${terms.FileType} is not supported`);
  if (fileHashOf(bytes) !== terms.FileHash)
    throw mismatch(
      'Data.Initiation.FileHash',
      'the SHA-256 of the uploaded file is not the FileHash of the consent',
    );
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw ObError.single(400, 'UK.OBIE.Resource.InvalidFormat', 'the file is not a UTF-8 JSON document');
  }
  const items = format.items(document);

  if (terms.NumberOfTransactions !== undefined && BigInt(terms.NumberOfTransactions) !== BigInt(items.length))
    throw mismatch(
      'Data.Initiation.NumberOfTransactions',
      `the file holds ${items.length} transactions, the consent says ${terms.NumberOfTransactions}`,
    );

  let debtor = terms.DebtorAccount;
  const seen = new Map<string, number>();
  const transactions: FileTransaction[] = [];
  let totalMinor = 0n;
  let totalScaled = 0n;
  items.forEach(({ item, reference }, i) => {
    const path = `Data.DomesticPayments.${i}`;
    if (
      item.LocalInstrument !== undefined &&
      terms.LocalInstrument !== undefined &&
      item.LocalInstrument !== terms.LocalInstrument
    )
      throw ObError.single(
        400,
        'UK.OBIE.Field.Invalid',
        `${path}.LocalInstrument differs from the consent's LocalInstrument ${terms.LocalInstrument}`,
        `${path}.LocalInstrument`,
      );
    const initiation: FileItem =
      item.LocalInstrument === undefined && terms.LocalInstrument !== undefined
        ? { ...item, LocalInstrument: terms.LocalInstrument }
        : item;
    const amountMinor = checkDomesticInitiation(initiation, path);
    if (item.InstructedAmount.Currency !== FILE_CURRENCY)
      throw ObError.single(
        400,
        'UK.OBIE.Unsupported.Currency',
        `a file of domestic payments is paid in ${FILE_CURRENCY}, not ${item.InstructedAmount.Currency}`,
        `${path}.InstructedAmount.Currency`,
      );
    if (item.DebtorAccount) {
      if (debtor && !sameAccount(debtor, item.DebtorAccount))
        throw ObError.single(
          400,
          'UK.OBIE.Field.Invalid',
          `${path}.DebtorAccount is not the debtor account of the ${terms.DebtorAccount ? 'consent' : 'file'}: a file is paid from one account`,
          `${path}.DebtorAccount`,
        );
      debtor ??= item.DebtorAccount;
    }
    const earlier = seen.get(item.InstructionIdentification);
    if (earlier !== undefined)
      throw ObError.single(
        400,
        'UK.OBIE.Rules.DuplicateReference',
        `${path}.InstructionIdentification repeats that of Data.DomesticPayments.${earlier}`,
        `${path}.InstructionIdentification`,
      );
    seen.set(item.InstructionIdentification, i);
    totalMinor += amountMinor;
    totalScaled += scaled(item.InstructedAmount.Amount);
    transactions.push({ index: i + 1, initiation, amountMinor, reference });
  });

  if (
    terms.ControlSum !== undefined &&
    controlSumOf(terms.ControlSum, 'Data.Initiation.ControlSum') !== totalScaled
  )
    throw mismatch(
      'Data.Initiation.ControlSum',
      `the amounts of the file add up to ${formatScaled(totalScaled)}, the consent's ControlSum is ${String(terms.ControlSum)}`,
    );
  return { transactions, totalMinor, currency: FILE_CURRENCY, debtor };
}

function formatScaled(value: bigint): string {
  const digits = value.toString().padStart(SCALE + 1, '0');
  const whole = digits.slice(0, -SCALE);
  const fraction = digits.slice(-SCALE).replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole;
}
