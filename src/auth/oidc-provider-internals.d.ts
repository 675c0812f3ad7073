// oidc-provider ships no types for its internal helpers; the one we reuse (pinned version, see package.json).
declare module 'oidc-provider/lib/helpers/fetch_request.js' {
  import type { Dispatcher } from 'undici';
  export function applySSRFProtection<T extends Dispatcher>(dispatcher: T): T;
}
