import { findAccountByIdentification, isAccountHolder, type AccountRecord } from '../../../bank/index.ts';
import type { Db, Tx } from '../../http/idempotency.ts';
import type { VrpRule } from './rule.ts';

/**
 * Sweeping: the sweeping access rules (the CMA's definition of VRP for sweeping) — a payment between two
 * accounts of the same person or legal entity. What the bank knows of the two sides of a payment:
 */
export interface SweepingPaymentFacts {
  /** Whether the PSU who authorised the consent holds the creditor account; undefined when it is not ours. */
  creditorHeldByPsu: boolean | undefined;
  /** The creditor account's name as the TPP gave it. */
  creditorName: string;
  /** The name on the debtor account. */
  debtorName: string;
}

/** Names compared as a person would: case, spacing and punctuation aside. */
function sameName(a: string, b: string): boolean {
  const norm = (name: string) =>
    name
      .toLowerCase()
      .replace(/[^\p{L}\p{N}]+/gu, ' ')
      .trim();
  return norm(a) === norm(b);
}

export const SWEEPING_PAYMENT_RULES: readonly VrpRule<SweepingPaymentFacts>[] = [
  {
    name: "sweeping: the creditor account is the PSU's own",
    check: (facts) => {
      const own = facts.creditorHeldByPsu ?? sameName(facts.creditorName, facts.debtorName);
      if (own) return undefined;
      return {
        code: 'UK.OBIE.Rules.FailsControlParameters',
        path: 'Data.Instruction.CreditorAccount',
        message:
          facts.creditorHeldByPsu === false
            ? 'a sweeping VRP pays only into an account of the PSU; this creditor account is held by someone else'
            : 'a sweeping VRP pays only into an account of the PSU; the creditor account name ' +
              `"${facts.creditorName}" is not the name on the debtor account`,
      };
    },
  },
];

/**
 * The facts the sweeping rules read, from the ledger: who holds the creditor account, when it is ours.
 * `creditorAccount`: the customer account `creditor` names, when already read (the submission reads it with the
 * debtor's: `debtorAccountWithCreditor`; null when none); undefined: looked up here.
 */
export async function sweepingFacts(
  db: Db | Tx,
  customerId: string,
  debtor: AccountRecord,
  creditor: { SchemeName: string; Identification: string; Name?: string | undefined },
  creditorAccount?: AccountRecord | null,
): Promise<SweepingPaymentFacts> {
  const ours =
    creditorAccount === undefined
      ? await findAccountByIdentification(db, creditor.SchemeName, creditor.Identification)
      : creditorAccount;
  return {
    creditorHeldByPsu: ours ? await isAccountHolder(db, customerId, ours.id) : undefined,
    creditorName: creditor.Name ?? '',
    debtorName: debtor.name,
  };
}
