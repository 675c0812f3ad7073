/**
 * What `npm test` preloads, for commands that name this file (`--import ./test/support/compile-cache.ts`):
 * the compile cache and module hooks of `module-loading.js`. `npm test` preloads that one directly, which
 * spares this file's type stripping (see there).
 */
import './module-loading.js';
