/**
 * The model bank: customers, accounts, a double-entry ledger and the sandbox population. No HTTP.
 */
export * from './errors.ts';
export * from './money.ts';
export * from './ledger.ts';
export * from './customers.ts';
export * from './admin.ts';
export * from './schedules.ts';
export * from './fx.ts';
export { renderStatementPdf } from './statement-file.ts';
export {
  seedSandbox,
  SANDBOX_SEED_SETTING,
  SANDBOX_USERNAMES,
  BANK_SORT_CODE,
  BANK_CODE,
  gbIban,
} from './seed.ts';
export type { SeedOptions, SeedResult } from './seed.ts';
export type { Counterparty, CurrencyExchangeDetails, PartyAddress } from '../store/schema/bank.ts';
export * from './payments.ts';
export * from './vrp-periods.ts';
export * from './ais-queries.ts';
export * from './scheduler.ts';
export { raisePaymentUpdate, PAYMENT_RESOURCE_TYPE } from './payment-events.ts';
