/**
 * What every benchmark shares: its options, a platform on a store of its own, a TPP with a token, the load
 * generator, the bare https + mTLS baseline and the ratio line each figure ends with. bench/README.md.
 */
export { benchOptions, type BenchOptions } from './options.ts';
export { openBenchStore, DEFAULT_DATABASE_URL, type BenchStore } from './store.ts';
export { startBenchPlatform, type BenchPlatform } from './platform.ts';
export { onboardTpp, aisAccessToken, aisReadHeaders, type BenchTpp, type TppHost } from './tpp.ts';
export { measure, meanRate, type Phase, type LoadRequest, type ClientTls } from './load.ts';
export { closedLoop, type LoopCount } from './closed-loop.ts';
export { startBareHttps, startPlainFastify, type Baseline } from './baseline.ts';
export { printRatio } from './ratio.ts';
export { machineLine } from './machine.ts';
export { addTransactions, addAccounts } from './ledger.ts';
export { countStatements, statementsPerRequest, type StatementCounter } from './statements.ts';
export { mainThreadWindow, type MainThreadWindow } from './main-thread.ts';
export { backendCpuWindow, cpuMsOf } from './process-cpu.ts';
export { heapAfterGc, megabytes, type HeapReading } from './heap.ts';
export {
  bracketedRatio,
  bracketPlan,
  median,
  warmUntilSteady,
  type BracketedFigure,
  type BracketPlan,
  type BracketSide,
  type PhaseResult,
} from './brackets.ts';
