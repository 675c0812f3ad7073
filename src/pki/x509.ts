/**
 * The one entry point to `@peculiar/x509` for src/pki. The library resolves its algorithms through
 * tsyringe, which needs the Reflect metadata polyfill loaded before it: that import lives here, once.
 * It also pins the library to Node's WebCrypto (`globalThis.crypto`).
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(globalThis.crypto);

export { x509 };
