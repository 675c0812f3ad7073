/**
 * The one line per figure that ends every benchmark, so that a run can be compared with the last one:
 * `ratio <name>: <x> (goal <y>)`. A goal is a floor (`>= 0.5`) or a band written by the caller.
 */
export function printRatio(name: string, value: number, goal?: number | string): void {
  const shown = Number.isFinite(value) ? value.toFixed(3) : 'n/a';
  const target = goal === undefined ? '' : ` (goal ${typeof goal === 'number' ? `>= ${goal}` : goal})`;
  console.log(`ratio ${name}: ${shown}${target}`);
}
