/**
 * Self time per package per operation from the phase profiles `BENCH_PROFILE_DIR` writes (main-thread.ts),
 * side by side for groups of phases, as a Markdown table:
 *
 *   node bench/support/profile-summary.ts <column>=<dir>/<part of file name> … [--functions <package>]
 *
 * e.g. `… bare=/tmp/p/pglite-c1-bare-oidc-provider-in-memory-adapter-baseline-bracket
 * obkit=/tmp/p/pglite-c1-obkit-platform-pglite-store-bracket`: each column sums the profiles in `<dir>` whose
 * file name holds its part and divides by their operations (columns may come from different runs' dirs). A frame is charged to its package (`node_modules/<package>`),
 * obkit's own directory (`src/<dir>`), `bench` (the client), node's module, or its name when it has no script
 * (`(garbage collector)`, native functions such as WebCrypto's `run`). Idle time is left out, and so is
 * `node:inspector`: stopping the profile is the profiler's own work. `--functions <package>` lists that
 * package's heaviest functions instead.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  operations?: number;
}

function packageOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : `native ${functionName}`;
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1]!;
  const own = /\/(src\/[^/]+)\//.exec(url);
  if (own) return `obkit ${own[1]!}`;
  if (url.includes('/bench/')) return 'bench (client)';
  if (url.startsWith('node:')) return url.startsWith('node:internal/crypto') ? 'node crypto' : 'node';
  return url;
}

function functionOf(frame: ProfileNode['callFrame']): string {
  const where = frame.url.replace(/.*node_modules\//, '').replace(/.*\/(src|bench)\//, '$1/');
  return `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
}

const LEFT_OUT = new Set(['(idle)', 'node:inspector']);

/** Microseconds of self time per key over the profiles, and their operations. */
function sum(files: string[], key: (frame: ProfileNode['callFrame']) => string | undefined) {
  const totals = new Map<string, number>();
  let operations = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    operations += profile.operations ?? Number.NaN;
    const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
    profile.samples.forEach((id, index) => {
      const frame = frames.get(id)!;
      const name = frame.url.startsWith('node:inspector') ? 'node:inspector' : packageOf(frame);
      if (LEFT_OUT.has(name)) return;
      const charged = key(frame);
      if (charged !== undefined)
        totals.set(charged, (totals.get(charged) ?? 0) + (profile.timeDeltas[index] ?? 0));
    });
  }
  return { totals, operations };
}

const rest = process.argv.slice(2);
const focusAt = rest.indexOf('--functions');
const focus = focusAt >= 0 ? rest[focusAt + 1] : undefined;
const columns = rest
  .filter((arg, index) => arg.includes('=') && (focusAt < 0 || index !== focusAt + 1))
  .map((arg) => {
    const [label, path] = arg.split('=') as [string, string];
    const dir = dirname(path);
    const part = basename(path);
    const files = readdirSync(dir)
      .filter((file) => file.endsWith('.cpuprofile') && file.includes(part))
      .map((file) => join(dir, file));
    const key = focus
      ? (frame: ProfileNode['callFrame']) => (packageOf(frame) === focus ? functionOf(frame) : undefined)
      : packageOf;
    return { label, files, ...sum(files, key) };
  });

const rows = new Map<string, number[]>();
columns.forEach(({ totals, operations }, index) => {
  for (const [name, micros] of totals) {
    const row = rows.get(name) ?? columns.map(() => 0);
    row[index] = micros / 1000 / operations;
    rows.set(name, row);
  }
});
const sorted = [...rows].sort((a, b) => Math.max(...b[1]) - Math.max(...a[1])).slice(0, focus ? 40 : 30);
console.log(`| ${focus ?? 'package'} (ms per operation) | ${columns.map((c) => c.label).join(' | ')} |`);
console.log(`| --- | ${columns.map(() => '---:').join(' | ')} |`);
console.log(
  `| (phases; operations) | ${columns.map((c) => `${c.files.length}; ${c.operations}`).join(' | ')} |`,
);
if (!focus) {
  const totals = columns.map((_, index) => [...rows.values()].reduce((all, row) => all + row[index]!, 0));
  console.log(
    `| **all but idle and the profiler** | ${totals.map((t) => `**${t.toFixed(3)}**`).join(' | ')} |`,
  );
}
for (const [name, values] of sorted)
  console.log(`| ${name} | ${values.map((value) => value.toFixed(focus ? 4 : 3)).join(' | ')} |`);
