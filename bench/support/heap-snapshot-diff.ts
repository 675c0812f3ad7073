/**
 * Compares two V8 heap snapshots (`v8.writeHeapSnapshot`, as bench/auth.ts writes them with
 * BENCH_HEAP_SNAPSHOTS) by constructor: for each node type and name (an object's constructor, `(string)`
 * for strings, a closure's function name…), the count and shallow size in each, and what grew, largest
 * growth first. Shallow sizes only: what a structure holds is the sum of its parts' rows.
 * Run: node --max-old-space-size=4096 bench/support/heap-snapshot-diff.ts before.heapsnapshot after.heapsnapshot [rows]
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

interface Totals {
  count: number;
  bytes: number;
}

/** Per `type:name` (strings, numbers and code grouped by type alone: their names are their contents). */
function totalsOf(file: string): Map<string, Totals> {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = parsed.snapshot.meta.node_fields;
  const types = parsed.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const byName = new Set(['object', 'closure', 'native', 'array', 'hidden', 'object shape']);
  const totals = new Map<string, Totals>();
  const { nodes, strings } = parsed;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]!]!;
    const name = byName.has(type) ? strings[nodes[i + nameAt]!]!.slice(0, 60) : '';
    const key = `${type}:${name}`;
    const entry = totals.get(key) ?? { count: 0, bytes: 0 };
    entry.count += 1;
    entry.bytes += nodes[i + sizeAt]!;
    totals.set(key, entry);
  }
  return totals;
}

const [beforeFile, afterFile, rowsArgument] = process.argv.slice(2);
if (!beforeFile || !afterFile) {
  process.stderr.write('usage: heap-snapshot-diff.ts before.heapsnapshot after.heapsnapshot [rows]\n');
  process.exit(2);
}
const before = totalsOf(beforeFile);
const after = totalsOf(afterFile);
const rows = [...after]
  .map(([key, totals]) => {
    const was = before.get(key) ?? { count: 0, bytes: 0 };
    return { key, count: totals.count - was.count, bytes: totals.bytes - was.bytes, total: totals.bytes };
  })
  .sort((a, b) => b.bytes - a.bytes)
  .slice(0, Number(rowsArgument ?? '40'));
const sum = (totals: Map<string, Totals>) => [...totals.values()].reduce((all, t) => all + t.bytes, 0);
console.log(
  `shallow bytes ${(sum(before) / 1048576).toFixed(1)} → ${(sum(after) / 1048576).toFixed(1)} MB; growth by type:name`,
);
for (const row of rows)
  console.log(
    `${(row.bytes / 1048576).toFixed(2).padStart(8)} MB  ${String(row.count).padStart(8)}  ${row.key}`,
  );
