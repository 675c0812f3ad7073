import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { enableCompileCache, getCompileCacheDir, registerHooks, stripTypeScriptTypes } from 'node:module';
import { join } from 'node:path';

/**
 * Faster module loading for the CLI: about a third of a warm `npm start` went to loading modules, not
 * to running them (bench/start.ts). Three costs of Node 22 are avoided here, each without changing what
 * is loaded:
 * - V8 compiles every module again on each start: Node's compile cache keeps the compiled code (in the
 *   system's temporary folder; Node checks it against the source).
 * - Node strips the TypeScript types of every one of our files on each start, and its compile cache does
 *   not keep that: the stripped code is kept beside it, named by the hash of the TypeScript source, so a
 *   changed file is never served stale.
 * - To know a `.js` file's format Node reads its package.json, and parses the whole `exports` map again
 *   for every file (its reader spreads a lazy getter). drizzle-orm's is 180 kB and drizzle loads hundreds
 *   of files. A file's format depends only on its folder and extension, so a relative import whose
 *   sibling Node already resolved takes the sibling's format. Bare specifiers, a folder's first file,
 *   symlinks and anything unusual go to Node's own resolution.
 * Only `obkit` itself calls this; tests and benches load modules the plain way.
 */
export function speedUpModuleLoading(): void {
  enableCompileCache();
  const cacheDir = getCompileCacheDir();
  const strippedDir = cacheDir === undefined ? undefined : join(cacheDir, 'obkit-stripped-ts');
  const formatByFolder = new Map<string, string>();
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const parent = context.parentURL;
      if (parent?.startsWith('file:') && (specifier.startsWith('./') || specifier.startsWith('../'))) {
        const url = new URL(specifier, parent);
        const key = url.search || url.hash ? undefined : folderKey(url.href);
        const format = key === undefined ? undefined : formatByFolder.get(key);
        if (format !== undefined && isPlainFile(url)) return { url: url.href, format, shortCircuit: true };
      }
      const resolved = nextResolve(specifier, context);
      const key = resolved.url.startsWith('file:') ? folderKey(resolved.url) : undefined;
      if (key !== undefined && resolved.format) formatByFolder.set(key, resolved.format);
      return resolved;
    },
    load(url, context, nextLoad) {
      const loaded = nextLoad(url, context);
      if (strippedDir === undefined || loaded.format !== 'module-typescript' || loaded.source == null) {
        return loaded;
      }
      const typescript =
        typeof loaded.source === 'string' ? loaded.source : new TextDecoder().decode(loaded.source);
      return { format: 'module', source: strippedTypes(strippedDir, typescript), shortCircuit: true };
    },
  });
}

/** The folder and extension of a `.js` or `.ts` file URL: files sharing it share their format. */
function folderKey(url: string): string | undefined {
  const slash = url.lastIndexOf('/');
  const extension = url.slice(url.lastIndexOf('.'));
  return extension === '.js' || extension === '.ts' ? `${url.slice(0, slash)} ${extension}` : undefined;
}

function isPlainFile(url: URL): boolean {
  try {
    return lstatSync(url).isFile();
  } catch {
    return false;
  }
}

/** The module without its types, as Node would run it; kept under the hash of the TypeScript source. */
function strippedTypes(dir: string, source: string): string {
  const path = join(dir, `${createHash('sha256').update(source).digest('base64url')}.js`);
  try {
    return readFileSync(path, 'utf8');
  } catch {
    // Not kept yet: strip it, and keep it for the next start (best effort; a failure only costs time).
  }
  const javascript = stripQuietly(source);
  try {
    mkdirSync(dir, { recursive: true });
    // Written aside, then renamed: another process never reads half a file.
    const draft = `${path}.${process.pid}`;
    writeFileSync(draft, javascript);
    renameSync(draft, path);
  } catch {
    // A read-only or full disk: run without keeping it.
  }
  return javascript;
}

/**
 * Strips the types the way Node does when it runs a `.ts` file. The public function says once per process
 * that it is experimental, which Node's own stripping of the same files does not: that one warning alone
 * is not printed.
 */
function stripQuietly(source: string): string {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (!text.includes('stripTypeScriptTypes')) Reflect.apply(emitWarning, process, [warning, ...rest]);
  }) as typeof process.emitWarning;
  try {
    return stripTypeScriptTypes(source, { mode: 'strip' });
  } finally {
    process.emitWarning = emitWarning;
  }
}
