import {
  describeRejection,
  findCustomerByUsername,
  findCustomerWithAccounts,
  fromMinor,
  getCustomer,
  listCustomerAccounts,
  paymentOutcomesUnderConsent,
  type CustomerAccount,
} from '../bank/index.ts';
import type { Queryable } from '../store/index.ts';
import type {
  AccountIdentification,
  CustomerDirectory,
  PsuAccount,
  PsuCustomer,
  PsuPayment,
} from './customers.ts';

/** The consent app's view of the bank core (src/bank): customers by username, their accounts with balances. */
export function bankCustomerDirectory(db: Queryable): CustomerDirectory {
  const toCustomer = (row: { id: string; username: string; displayName: string } | undefined) =>
    row
      ? ({ id: row.id, username: row.username, displayName: row.displayName } satisfies PsuCustomer)
      : undefined;
  return {
    async findCustomerByUsername(username) {
      return toCustomer(await findCustomerByUsername(db, username));
    },
    async getCustomer(id) {
      return toCustomer(await getCustomer(db, id));
    },
    async listCustomerAccounts(customerId) {
      return (await listCustomerAccounts(db, customerId)).map(toPsuAccount);
    },
    async findCustomerWithAccounts(by) {
      const found = await findCustomerWithAccounts(db, by);
      const customer = toCustomer(found?.customer);
      return found && customer ? { customer, accounts: found.accounts.map(toPsuAccount) } : undefined;
    },
    async listConsentPayments(consentId) {
      return (await paymentOutcomesUnderConsent(db, consentId)).map((outcome): PsuPayment => ({
        id: outcome.id,
        amount: fromMinor(outcome.amountMinor, outcome.currency),
        currency: outcome.currency,
        status: outcome.status,
        ...(outcome.status === 'Rejected' ? { reason: describeRejection(outcome.reason) } : {}),
        at: outcome.at,
      }));
    },
  };
}

export function toPsuAccount(account: CustomerAccount): PsuAccount {
  const identifications: AccountIdentification[] = [];
  if (account.sortCode && account.accountNumber) {
    identifications.push({
      schemeName: 'UK.OBIE.SortCodeAccountNumber',
      identification: `${account.sortCode}${account.accountNumber}`,
    });
  }
  if (account.iban) identifications.push({ schemeName: 'UK.OBIE.IBAN', identification: account.iban });
  return {
    id: account.id,
    name: account.nickname ?? account.name,
    currency: account.currency,
    // What the PSU can spend: booked balance less pending debits.
    balance: account.availableBalance,
    identifications,
    status: account.status,
    subType: account.accountSubType,
  };
}
