/**
 * The one line per figure that ends every benchmark, so that a run can be compared with the last one:
 * `ratio <name>: <x> (goal <y>)`. A goal is a floor (`>= 0.5`) or a band written by the caller. A figure
 * that is a median of brackets (brackets.ts) is followed by their spread, and the median ratio of the
 * sides' CPU per operation where measured: `[spread <low>–<high> of <n>; CPU per operation <x>]`.
 */
export function printRatio(
  name: string,
  value: number,
  goal?: number | string,
  spread?: { low: number; high: number; ratios: readonly number[]; cpuRatio?: number },
): void {
  const shown = Number.isFinite(value) ? value.toFixed(3) : 'n/a';
  const target = goal === undefined ? '' : ` (goal ${typeof goal === 'number' ? `>= ${goal}` : goal})`;
  const range = spread
    ? `  [spread ${spread.low.toFixed(3)}–${spread.high.toFixed(3)} of ${spread.ratios.length}` +
      (spread.cpuRatio !== undefined ? `; CPU per operation ${spread.cpuRatio.toFixed(3)}` : '') +
      ']'
    : '';
  console.log(`ratio ${name}: ${shown}${target}${range}`);
}
