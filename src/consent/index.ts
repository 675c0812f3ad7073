/**
 * src/consent: intents of every kind and their lifecycle, the PSU's credentials (password + TOTP), and the
 * consent app the authorization server hands its interactions to.
 */
export * from './kinds.ts';
export * from './permissions.ts';
export * from './intents.ts';
export * from './authorisable.ts';
export * from './totp.ts';
export * from './credentials.ts';
export * from './customers.ts';
export * from './describe.ts';
export * from './interaction-bridge.ts';
export { consentApp, SESSION_COOKIE, type ConsentAppOptions } from './app/plugin.ts';
export {
  consentDashboard,
  DASHBOARD_COOKIE,
  type ConsentDashboardOptions,
  type TppDirectory,
} from './app/dashboard.ts';
