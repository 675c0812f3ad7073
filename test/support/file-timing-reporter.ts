/**
 * A node:test reporter that shows where a suite run spends its time, per test file. Use it beside the
 * spec reporter:
 *
 *   node --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout \
 *     --test-reporter=./test/support/file-timing-reporter.ts --test-reporter-destination=timings.txt ...
 *
 * While the run goes it writes a line per finished top-level test (so an interrupted run still tells):
 * seconds since the run started, pass/fail, its own duration, its file. When the run ends it writes a
 * table, slowest first: "since_prev" runs from the previous file's last event to this file's last (with
 * --test-concurrency=1, the file's whole share of the run: process start, module loading, fixtures and
 * tests); "tests" sums its top-level tests' own durations, which leave out loading and the set-up in a
 * describe's body.
 */
import type { TestEvent } from 'node:test/reporters';

interface FileTiming {
  lastSeen: number;
  topLevelMs: number;
  passed: number;
  failed: number;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1);

function relative(file: string): string {
  return file.startsWith(`${process.cwd()}/`) ? file.slice(process.cwd().length + 1) : file;
}

export default async function* fileTimingReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const files = new Map<string, FileTiming>();
  const started = Date.now();
  for await (const event of source) {
    // Enqueue events arrive for every file when the run starts: they say nothing of when a file ran.
    if (event.type === 'test:enqueue') continue;
    const data = event.data as {
      file?: string;
      name?: string;
      nesting?: number;
      details?: { duration_ms?: number };
    };
    if (data.file === undefined) continue;
    const now = Date.now();
    const timing = files.get(data.file) ?? { lastSeen: now, topLevelMs: 0, passed: 0, failed: 0 };
    files.set(data.file, timing);
    timing.lastSeen = now;
    if ((event.type === 'test:pass' || event.type === 'test:fail') && data.nesting === 0) {
      const duration = data.details?.duration_ms ?? 0;
      timing.topLevelMs += duration;
      if (event.type === 'test:pass') timing.passed += 1;
      else timing.failed += 1;
      const outcome = event.type === 'test:pass' ? 'pass' : 'FAIL';
      yield `${seconds(now - started)}\t${outcome}\t${seconds(duration)}\t${relative(data.file)}\t${data.name ?? ''}\n`;
    }
  }
  const byCompletion = [...files.entries()].sort(([, a], [, b]) => a.lastSeen - b.lastSeen);
  const sincePrevious = new Map<string, number>();
  let previous = started;
  for (const [file, timing] of byCompletion) {
    sincePrevious.set(file, timing.lastSeen - previous);
    previous = timing.lastSeen;
  }
  const rows = byCompletion.sort(([a], [b]) => (sincePrevious.get(b) ?? 0) - (sincePrevious.get(a) ?? 0));
  yield `\nrun wall ${seconds(Date.now() - started)} s, ${files.size} files\n`;
  yield `since_prev_s\ttests_s\tpass\tfail\tfile\n`;
  for (const [file, timing] of rows) {
    const columns = [seconds(sincePrevious.get(file) ?? 0), seconds(timing.topLevelMs)];
    yield `${columns.join('\t')}\t${timing.passed}\t${timing.failed}\t${relative(file)}\n`;
  }
}
