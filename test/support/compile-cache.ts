/**
 * Preloaded by `npm test` (`--import`) in the runner and in every test file's process: V8's compiled code
 * of the modules a process loads (our sources and node_modules) is kept in Node's compile cache directory,
 * so the next process loads them without compiling them again. Each test file runs in a process of its own
 * and loads most of the platform, and many spawn obkit processes (CLI, cluster instances), which inherit
 * the cache through NODE_COMPILE_CACHE. Entries are checked against the source's content, so an edited
 * file is compiled afresh. Measured: about 0.2 s of CPU less per process loading the platform (of 2.3 s).
 */
import { enableCompileCache } from 'node:module';

const { directory } = enableCompileCache();
if (directory) process.env.NODE_COMPILE_CACHE ??= directory;
