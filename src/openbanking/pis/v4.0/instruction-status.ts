import type { PaymentRecord } from '../../../bank/index.ts';
import { rejectionReason } from './mapping.ts';

/**
 * The statuses of a future-dated instruction (scheduled payment, standing order) as v4.0 writes them,
 * from the report the handlers make in v3.1.11's words (future-dated.ts). The file gives each payment
 * type its own set: a scheduled payment's Status is an ExternalPaymentTransactionStatus1Code (PDNG … RJCT,
 * no cancelled code); a standing order's the standing-order set (RCVD, CANC, ACTC, PATC, PDNG, INFA,
 * INCO, RJCT); a payment-details entry, ExternalPaymentTransactionStatus1Code again.
 */

/** What future-dated.ts reports of an instruction, in v3.1.11's words. */
export interface InstructionReport {
  status: string;
  details: Record<string, unknown>[];
  /** A scheduled payment's execution, once the bank tried it (its rejection reason, if refused). */
  execution?: PaymentRecord | undefined;
}

interface Reason {
  StatusReasonCode: string;
  StatusReasonDescription: string;
}

/** ExternalStatusReason1Code DS02: an authorised user cancelled the order. */
const CANCELLED: Reason = {
  StatusReasonCode: 'DS02',
  StatusReasonDescription: 'The order was cancelled before it was paid',
};

const DETAIL_CODES: Record<string, string> = {
  Pending: 'PDNG',
  AcceptedSettlementCompleted: 'ACSC',
  AcceptedCreditSettlementCompleted: 'ACCC',
  Rejected: 'RJCT',
  Cancelled: 'RJCT',
};

function reasonOf(entry: Record<string, unknown>, execution: PaymentRecord | undefined): Reason {
  if (entry.Status === 'Cancelled') return CANCELLED;
  if (execution?.status === 'Rejected') return rejectionReason(execution);
  const detail = entry.StatusDetail as { StatusReasonDescription?: string } | undefined;
  return {
    StatusReasonCode: 'NARR',
    StatusReasonDescription: detail?.StatusReasonDescription ?? 'Rejected by the bank',
  };
}

function detailOnV4(entry: Record<string, unknown>, execution: PaymentRecord | undefined) {
  const status = DETAIL_CODES[String(entry.Status)];
  if (!status) throw new Error(`payment-details status ${String(entry.Status)} has no v4.0 code`);
  const base = {
    PaymentTransactionId: entry.PaymentTransactionId,
    Status: status,
    StatusUpdateDateTime: entry.StatusUpdateDateTime,
  };
  if (status !== 'RJCT') return { entry: base };
  const reason = reasonOf(entry, execution);
  return {
    entry: {
      ...base,
      StatusDetail: {
        Status: status,
        StatusReason: reason.StatusReasonCode,
        StatusReasonDescription: reason.StatusReasonDescription,
      },
    },
    reason,
  };
}

/**
 * A scheduled payment: accepted and waiting for its date (ACTC), then what its execution became (ACSC,
 * or RJCT with why); cancelled before its date it is RJCT with DS02, v4.0 having no cancelled code here.
 */
export function scheduledOnV4(report: InstructionReport) {
  const details = report.details.map((entry) => detailOnV4(entry, report.execution));
  const [first] = details;
  const status = !first || first.entry.Status === 'PDNG' ? 'ACTC' : first.entry.Status;
  return {
    resource: { Status: status, ...(first?.reason ? { StatusReason: [first.reason] } : {}) },
    details: details.map((detail) => detail.entry),
  };
}

/** A standing order: initiation completed (INCO) once set up in the bank, cancelled (CANC) when stopped. */
export function standingOrderOnV4(report: InstructionReport) {
  return {
    resource: { Status: report.status === 'Cancelled' ? 'CANC' : 'INCO' },
    details: report.details.map((entry) => detailOnV4(entry, undefined).entry),
  };
}
