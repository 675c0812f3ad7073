// oidc-provider ships no types for its internal helpers; the one we reuse (pinned version, see package.json).
declare module 'oidc-provider/lib/helpers/fetch_request.js' {
  import type { Dispatcher } from 'undici';
  export function applySSRFProtection<T extends Dispatcher>(dispatcher: T): T;
}

// The request context's store behind `Provider.ctx` (bench/pglite-writes.ts runs the token statement in it).
declare module 'oidc-provider/lib/helpers/als.js' {
  import type { AsyncLocalStorage } from 'node:async_hooks';
  const als: AsyncLocalStorage<unknown>;
  export default als;
}
