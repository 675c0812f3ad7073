import { existsSync, readFileSync } from 'node:fs';
import { Option } from 'commander';
import type { Bundle } from './bundle.ts';
import { TppUsageError } from './errors.ts';

/**
 * Where the TPP commands look when no --directory, --bank or --ca is given and the bundle does not say:
 * the local sandbox as the server's configuration places it (`OBKIT_*`, `--config`). The command line
 * composes it from the server side; the TPP side only asks.
 */
export interface TppDefaults {
  localSandbox(configFile: string | undefined): Promise<{ url: string; caFile: string }>;
}

/**
 * The CAs to trust for the directory's and the bank's HTTPS: `--ca`, else the CA the bundle was onboarded
 * with, else the local sandbox's CA if there is one; none means the system roots.
 */
export async function trustFor(
  options: { ca?: string | undefined; config?: string | undefined },
  defaults: TppDefaults,
  bundle?: Bundle,
): Promise<string[]> {
  const read = (file: string, flag: string): string[] => {
    try {
      return [readFileSync(file, 'utf8')];
    } catch (error) {
      throw new TppUsageError(`${flag}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? ''}`);
    }
  };
  if (options.ca) return read(options.ca, '--ca');
  const recorded = bundle?.summary.directory.caFile;
  if (recorded && existsSync(recorded)) return read(recorded, `the CA recorded in ${bundle.dir}/bundle.json`);
  const { caFile } = await defaults.localSandbox(options.config);
  return existsSync(caFile) ? read(caFile, 'the sandbox CA') : [];
}

export const configOption = () =>
  new Option(
    '-c, --config <file>',
    "the server's JSON configuration, for the local sandbox's URL and CA (also OBKIT_CONFIG and OBKIT_* variables)",
  );
