/**
 * Runs every benchmark in bench/ (or those named: `npm run bench -- pki auth`), one after another so they
 * do not compete for the two cores. Each prints its own ratios against a baseline measured in its run.
 * Options (`--store pglite|postgres|both`, `--concurrency 1,8`) are passed to each: bench/support/options.ts.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(dir)
  .filter((name) => name.endsWith('.ts') && name !== 'run.ts')
  .map((name) => name.slice(0, -3))
  .sort();
const args = process.argv.slice(2);
/** Options that take no value (bench/support/options.ts), so the argument after one is not swallowed. */
const FLAGS = new Set(['--aa']);
const wanted: string[] = [];
const passed: string[] = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!;
  if (!arg.startsWith('--')) wanted.push(arg);
  else {
    passed.push(arg);
    // `--name value` (not `--name=value`): the value goes with it.
    if (!arg.includes('=') && !FLAGS.has(arg) && i + 1 < args.length) passed.push(args[++i]!);
  }
}
const unknown = wanted.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ')}\n`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : available) {
  process.stdout.write(`\n== bench/${name}.ts ${passed.join(' ')}\n`);
  const result = spawnSync(process.execPath, [`${dir}${name}.ts`, ...passed], { stdio: 'inherit' });
  if (result.status !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
