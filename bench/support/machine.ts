/** One line saying where and when figures were taken: they mean little without the machine and its load. */
import { cpus, loadavg } from 'node:os';

export function machineLine(): string {
  const [one, five] = loadavg();
  return (
    `${new Date().toISOString()}  ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'})  ` +
    `load ${one!.toFixed(2)} / ${five!.toFixed(2)}  node ${process.version}`
  );
}
