/**
 * Preloaded by `npm test` (`--import`) in the runner and in every test file's process, to cut what loading
 * the platform costs each of them (measured with `--cpu-prof`; see bench/README.md "Session 13"). Plain
 * JavaScript: a preloaded TypeScript file would have Node start its type stripper (amaro, a WASM build of
 * SWC: about 0.6 s of CPU) before the hooks below could spare it.
 *
 * - **Compiled code.** V8's compiled code of the modules a process loads (our sources and node_modules) is
 *   kept in Node's compile cache directory, so the next process loads them without compiling them again.
 *   Many tests spawn obkit processes (CLI, cluster instances), which inherit it through NODE_COMPILE_CACHE.
 *   Entries are checked against the source's content. About 0.2 s of CPU per process (of 2.3 s).
 * - **Stripped TypeScript.** The compile cache keeps compiled code, but Node strips the types of every `.ts`
 *   file on every load before that: about 0.3 s of CPU per process loading the platform, plus starting the
 *   stripper. The stripped code, made by Node's own `stripTypeScriptTypes`, is kept under the temporary
 *   directory named by a hash of the source (in a folder named by the Node version), written aside and
 *   renamed, as the PGlite template is. Stripping puts spaces where the types were, so lines and columns in
 *   stack traces are those of the source.
 * - **The format of each `.js` file of a package.** For every file it resolves, Node 22 reads the nearest
 *   package.json, and `getPackageScopeConfig` spreads the manifest, which calls its lazy `exports` getter:
 *   the whole `exports` field is parsed again for each file. drizzle-orm's package.json is 179 kB and the
 *   platform loads 112 of its files: about 0.9 s of CPU per process. For a relative import of a `.js`
 *   file (or, outside node_modules, a `.ts` one: 1136 of our own imports, each reading our package.json)
 *   from a file of a package whose package.json says `"type"`, the hook resolves as Node does (the URL against its
 *   parent, the file must exist, symbolic links resolved) and reads each package.json once. Anything else
 *   (bare specifiers, import attributes, require(), a package without `"type"`, whose format Node detects
 *   from the syntax, a missing file and its error) is left to Node's resolver. A package name imported
 *   by our own files (64 imports of drizzle-orm) is resolved by Node once per importing folder.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { enableCompileCache, registerHooks, stripTypeScriptTypes } from 'node:module';
import { tmpdir } from 'node:os';
import process from 'node:process';
import { Buffer } from 'node:buffer';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL, URL } from 'node:url';

const { directory } = enableCompileCache();
if (directory) process.env.NODE_COMPILE_CACHE ??= directory;

/** @type {Map<string, 'module' | 'commonjs' | undefined>} `"type"` of the package scope of each folder. */
const packageTypeByFolder = new Map();

/**
 * The `"type"` of the package.json nearest above `folder` (Node's package scope), if it says one.
 * @param {string} folder
 * @returns {'module' | 'commonjs' | undefined}
 */
function packageType(folder) {
  if (packageTypeByFolder.has(folder)) return packageTypeByFolder.get(folder);
  let type;
  // Node's look-up stops below a node_modules folder and at the root.
  if (basename(folder) !== 'node_modules' && dirname(folder) !== folder) {
    let manifest;
    try {
      manifest = readFileSync(join(folder, 'package.json'), 'utf8');
    } catch {
      manifest = undefined;
    }
    if (manifest === undefined) type = packageType(dirname(folder));
    else {
      try {
        const declared = JSON.parse(manifest).type;
        type = declared === 'module' || declared === 'commonjs' ? declared : undefined;
      } catch {
        // A broken package.json: Node's resolver reports it.
        type = undefined;
      }
    }
  }
  packageTypeByFolder.set(folder, type);
  return type;
}

const strippedFolder = join(tmpdir(), `obkit-test-stripped-ts-${process.version}`);

/**
 * @param {string} source TypeScript
 * @returns {string} the same, its types stripped
 */
function strippedTypeScript(source) {
  const file = join(strippedFolder, `${createHash('sha256').update(source).digest('hex')}.js`);
  try {
    return readFileSync(file, 'utf8');
  } catch {
    const code = stripTypeScriptTypes(source);
    mkdirSync(strippedFolder, { recursive: true });
    const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(draft, code);
    renameSync(draft, file);
    return code;
  }
}

/** @type {Map<string, import('node:module').ResolveFnOutput>} Node's answers for package names, by folder. */
const bareResolutions = new Map();

registerHooks({
  resolve(specifier, context, nextResolve) {
    const parent = context.parentURL;
    if (parent?.startsWith('file:') && !parent.includes('/node_modules/') && /^[@\w]/.test(specifier)) {
      // A package name means the same from every file of a folder (Node looks in the node_modules folders
      // above it), and Node's own cache is by importing file.
      const key = JSON.stringify([
        new URL('.', parent).href,
        specifier,
        context.conditions,
        context.importAttributes,
      ]);
      let resolved = bareResolutions.get(key);
      if (!resolved) bareResolutions.set(key, (resolved = nextResolve(specifier, context)));
      return { ...resolved, shortCircuit: true };
    }
    if (
      parent?.startsWith('file:') &&
      (specifier.startsWith('./') || specifier.startsWith('../')) &&
      /^[\w./@-]+\.[jt]s$/.test(specifier) &&
      (specifier.endsWith('.js') || !parent.includes('/node_modules/')) &&
      context.conditions.includes('import') &&
      Object.keys(context.importAttributes ?? {}).length === 0
    ) {
      const path = fileURLToPath(new URL(specifier, parent));
      const type = packageType(dirname(path));
      if (type && statSync(path, { throwIfNoEntry: false })?.isFile()) {
        const format = path.endsWith('.ts') ? `${type}-typescript` : type;
        return { url: pathToFileURL(realpathSync(path)).href, format, shortCircuit: true };
      }
    }
    return nextResolve(specifier, context);
  },
  load(url, context, nextLoad) {
    const loaded = nextLoad(url, context);
    if (loaded.format !== 'module-typescript' || process.features.typescript !== 'strip') return loaded;
    const source = typeof loaded.source === 'string' ? loaded.source : Buffer.from(loaded.source).toString();
    return { format: 'module', source: strippedTypeScript(source), shortCircuit: true };
  },
});
