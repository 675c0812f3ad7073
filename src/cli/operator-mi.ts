import type { Command } from 'commander';
import type { Config } from '../server/config.ts';

/** Bad usage of an operator command: one line on stderr, exit 2 (src/cli/errors.ts). */
export class OperatorUsageError extends Error {
  override name = 'OperatorUsageError';
}

interface MiFlags {
  from?: string;
  to?: string;
  json?: boolean;
  config?: string;
  dataDir?: string;
}

const DAY_MS = 86_400_000;
const DATE_OR_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** `2026-03-01` (midnight UTC) or an ISO 8601 date-time with its zone; anything else is bad usage. */
function instantOf(flag: string, text: string): Date {
  const time = DATE_OR_TIME.test(text) ? Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text) : NaN;
  if (Number.isNaN(time))
    throw new OperatorUsageError(
      `${flag} takes a date (2026-03-01) or a date-time with its zone (2026-03-01T10:00:00Z), not ${text}`,
    );
  return new Date(time);
}

/**
 * `obkit operator mi [--from …] [--to …] [--json]`: the OB MI figures of every instance, read from the
 * database, one row per hour, endpoint and version (CSV by default, JSON with --json). Default: the last 24
 * hours.
 */
export function addOperatorMi(
  operator: Command,
  configFrom: (flags: { config?: string; dataDir?: string }) => Promise<Config>,
): void {
  operator
    .command('mi')
    .description(
      'the OB MI report: per hour, endpoint and version, calls, successes, failures, response times, payload sizes, downtime',
    )
    .option('--from <when>', 'start (a date, or a date-time with its zone; default: 24 hours before --to)')
    .option('--to <when>', 'end (default: now)')
    .option('--json', 'print JSON instead of CSV')
    .option('-c, --config <file>', 'JSON configuration file (also OBKIT_CONFIG)')
    .option('--data-dir <dir>', 'where the embedded database lives (OBKIT_DATA_DIR)')
    .action(async (flags: MiFlags) => {
      const to = flags.to === undefined ? new Date() : instantOf('--to', flags.to);
      const from =
        flags.from === undefined ? new Date(to.getTime() - DAY_MS) : instantOf('--from', flags.from);
      if (from.getTime() >= to.getTime()) throw new OperatorUsageError('--from must be before --to');
      if (to.getTime() - from.getTime() > 366 * DAY_MS)
        throw new OperatorUsageError('a report covers at most 366 days: narrow --from/--to');
      const config = await configFrom(flags);
      const [{ openConfiguredStore }, { readMiReport, miReportCsv }] = await Promise.all([
        import('../server/platform.ts'),
        import('../server/operator-reports.ts'),
      ]);
      const store = await openConfiguredStore(config);
      try {
        await store.migrate();
        const report = await readMiReport(store.db, { from, to });
        process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : miReportCsv(report));
      } finally {
        await store.close();
      }
    });
}
