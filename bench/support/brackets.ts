/**
 * A figure that is one configuration's rate over another's (B ÷ A: metrics on ÷ off, obkit ÷ a bare
 * server, with ÷ without a subscription), measured so that it stays put while the measured path does not
 * change. Phases of one bracket drifted ±30 % on a shared 2-core machine (bench/README.md, session 14):
 * the first phase of a process runs cold (its main-thread CPU per request was twice the later ones'), and
 * after that the machine's other work moves every phase's rate by up to 3× in either direction, which one
 * A B B A bracket cannot cancel. So:
 * 1. both sides are warmed, alternately, until each one's cost per operation (its main-thread CPU, else
 *    its rate) changed by less than `tolerance` from its previous phase — a rule, not a fixed time — or
 *    `maxWarmUpPhases` were run (said so in the output);
 * 2. then `brackets` short brackets, A B B A and B A A B in turn (an A/A check with A B B A only came out
 *    above 1 in 6 of 8 cells: a warm-up still easing off favours a bracket's middle), each giving its own
 *    ratio (B's mean rate ÷ A's);
 * 3. the figure is the median of the bracket ratios, printed with their spread (lowest – highest).
 * With `--aa` (options.ts) side B is side A again: an A/A check of the method, whose figure should be ~1.00.
 */
import { cpus, loadavg } from 'node:os';
import type { BenchOptions } from './options.ts';

/** What one phase of a side measured. */
export interface PhaseResult {
  perSecond: number;
  /** The side's CPU per operation in any unit (the same for both sides), where the benchmark measures it. */
  cpuPerOperation?: number;
}

export interface BracketSide {
  label: string;
  /** Runs one phase; `phase` says which (warm-up, bracket n), for its output line. */
  measure(phase: string): Promise<PhaseResult>;
}

export interface BracketedFigure {
  /** The median of the brackets' ratios of B's rate to A's. */
  ratio: number;
  low: number;
  high: number;
  ratios: number[];
  /** The median of the brackets' ratios of A's CPU per operation to B's (the same sense as `ratio`). */
  cpuRatio?: number;
  warmUpPhases: number;
  settled: boolean;
  /** The machine's one-minute load average at the end, over its cores (above 1: runnable work queued). */
  loadPerCore: number;
}

export interface BracketPlan {
  brackets: number;
  aa: boolean;
  /** The largest change of a side's cost per operation between two warm-up phases that counts as settled. */
  tolerance?: number;
  /** Warm-up phases at most, both sides together (alternating). */
  maxWarmUpPhases?: number;
}

export function bracketPlan(options: BenchOptions): BracketPlan {
  return { brackets: options.brackets, aa: options.aa };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The figure a side's warm-up settles on: its CPU per operation where measured, else its time per operation. */
function costOf(result: PhaseResult): number {
  return result.cpuPerOperation !== undefined && Number.isFinite(result.cpuPerOperation)
    ? result.cpuPerOperation
    : 1 / result.perSecond;
}

/**
 * Alternates the sides' phases until each side's last two costs per operation differ by at most
 * `tolerance` (each side warmed at least twice), or `maxPhases` were run. Returns how many ran and whether
 * they settled.
 */
export async function warmUntilSteady(
  sides: readonly BracketSide[],
  tolerance: number,
  maxPhases: number,
): Promise<{ phases: number; settled: boolean }> {
  const history = sides.map(() => [] as number[]);
  let phases = 0;
  const steady = () =>
    history.every((costs) => {
      if (costs.length < 2) return false;
      const [previous, last] = costs.slice(-2) as [number, number];
      return Math.abs(last / previous - 1) <= tolerance;
    });
  while (phases < maxPhases && !steady()) {
    const at = phases % sides.length;
    const side = sides[at]!;
    history[at]!.push(costOf(await side.measure(`warm-up ${Math.floor(phases / sides.length) + 1}`)));
    phases++;
  }
  return { phases, settled: steady() };
}

/** B ÷ A as a median over A B B A brackets after a warm-up (the module's comment), printed with its spread. */
export async function bracketedRatio(
  name: string,
  a: BracketSide,
  b: BracketSide,
  plan: BracketPlan,
): Promise<BracketedFigure> {
  const sideB: BracketSide = plan.aa ? { label: `${a.label} (A/A: as B)`, measure: a.measure } : b;
  const sides = plan.aa ? [a] : [a, sideB];
  const warm = await warmUntilSteady(sides, plan.tolerance ?? 0.1, plan.maxWarmUpPhases ?? 6);
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  for (let bracket = 1; bracket <= plan.brackets; bracket++) {
    const phase = `bracket ${bracket}/${plan.brackets}`;
    // A B B A, then B A A B: a drift that is not a straight line (a warm-up still easing off) favours the
    // middle of a bracket; turning every other bracket round gives that to each side alike.
    const turned = bracket % 2 === 0;
    const [first, second] = turned ? [sideB, a] : [a, sideB];
    const outer1 = await first.measure(phase);
    const inner1 = await second.measure(phase);
    const inner2 = await second.measure(phase);
    const outer2 = await first.measure(phase);
    const [a1, b1, b2, a2] = turned ? [inner1, outer1, outer2, inner2] : [outer1, inner1, inner2, outer2];
    ratios.push((b1.perSecond + b2.perSecond) / (a1.perSecond + a2.perSecond));
    const costs = [a1, b1, b2, a2].map((result) => result.cpuPerOperation);
    if (costs.every((cost) => cost !== undefined && Number.isFinite(cost))) {
      const [ca1, cb1, cb2, ca2] = costs as [number, number, number, number];
      cpuRatios.push((ca1 + ca2) / (cb1 + cb2));
    }
  }
  const figure: BracketedFigure = {
    ratio: median(ratios),
    low: Math.min(...ratios),
    high: Math.max(...ratios),
    ratios,
    ...(cpuRatios.length === ratios.length ? { cpuRatio: median(cpuRatios) } : {}),
    warmUpPhases: warm.phases,
    settled: warm.settled,
    loadPerCore: loadavg()[0]! / cpus().length,
  };
  console.log(
    `bracketed ${name}${plan.aa ? ' (A/A check)' : ''}: median ${figure.ratio.toFixed(3)} of ` +
      `${ratios.map((ratio) => ratio.toFixed(3)).join(', ')}` +
      (figure.cpuRatio !== undefined
        ? `; CPU per operation, A ÷ B: median ${figure.cpuRatio.toFixed(3)}`
        : '') +
      `; warm-up ${warm.phases} phases${warm.settled ? '' : ', not settled'}` +
      // Other work queued for the cores moves each phase's rate far more than the measured path does.
      (figure.loadPerCore > 1
        ? `; machine busy (load ${figure.loadPerCore.toFixed(1)} per core): rates unreliable` +
          (figure.cpuRatio !== undefined ? ', see the CPU ratio' : '')
        : ''),
  );
  return figure;
}
