#!/usr/bin/env node
// obkit runs its TypeScript sources directly, which needs Node >= 22.18 (type stripping). When started by
// an older node, re-run under the Node 22 the package installs as a devDependency.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

if (major > 22 || (major === 22 && minor >= 18)) {
  await import(main);
} else {
  const bundled = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(bundled)) {
    process.stderr.write(
      `obkit needs Node.js 22.18 or newer (this is ${process.version}); run npm install first\n`,
    );
    process.exit(2);
  }
  const result = spawnSync(bundled, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
