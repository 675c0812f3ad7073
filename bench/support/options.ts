/**
 * The options every benchmark takes, from its command line (npm run bench passes them through):
 * `--store pglite|postgres|both` (default both) and `--concurrency 1,8` (default 1 and 8);
 * BENCH_SECONDS sets the seconds per measured phase. The bracketed figures (brackets.ts: auth, metrics,
 * events) run `BENCH_BRACKETS` A B B A brackets (default 5) of `BENCH_BRACKET_SECONDS` phases (default 1.5);
 * `--aa` measures their side A on both sides of every bracket (an A/A check: the figure should be ~1.00).
 */
import type { Backend } from '../../src/store/index.ts';

export interface BenchOptions {
  stores: Backend[];
  concurrencies: number[];
  seconds: number;
  brackets: number;
  bracketSeconds: number;
  aa: boolean;
}

function valueOf(args: readonly string[], name: string): string | undefined {
  const at = args.findIndex((arg) => arg === name || arg.startsWith(`${name}=`));
  if (at < 0) return undefined;
  const arg = args[at]!;
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[at + 1];
}

export function benchOptions(args: readonly string[] = process.argv.slice(2)): BenchOptions {
  const store = valueOf(args, '--store') ?? process.env.BENCH_STORE ?? 'both';
  if (store !== 'pglite' && store !== 'postgres' && store !== 'both')
    throw new Error(`--store must be pglite, postgres or both, not ${store}`);
  const concurrency = valueOf(args, '--concurrency') ?? process.env.BENCH_CONCURRENCY ?? '1,8';
  const concurrencies = concurrency.split(',').map(Number);
  if (concurrencies.some((c) => !Number.isInteger(c) || c < 1))
    throw new Error(`--concurrency takes positive integers separated by commas, not ${concurrency}`);
  const seconds = Number(process.env.BENCH_SECONDS ?? '5');
  if (!(seconds > 0))
    throw new Error(`BENCH_SECONDS must be a positive number, not ${process.env.BENCH_SECONDS}`);
  const brackets = Number(process.env.BENCH_BRACKETS ?? '5');
  if (!(Number.isInteger(brackets) && brackets >= 1))
    throw new Error(`BENCH_BRACKETS must be a positive integer, not ${process.env.BENCH_BRACKETS}`);
  const bracketSeconds = Number(process.env.BENCH_BRACKET_SECONDS ?? '1.5');
  if (!(bracketSeconds > 0))
    throw new Error(
      `BENCH_BRACKET_SECONDS must be a positive number, not ${process.env.BENCH_BRACKET_SECONDS}`,
    );
  return {
    stores: store === 'both' ? ['pglite', 'postgres'] : [store],
    concurrencies,
    seconds,
    brackets,
    bracketSeconds,
    aa: args.includes('--aa') || process.env.BENCH_AA === '1',
  };
}
