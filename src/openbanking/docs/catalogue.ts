import { readFile } from 'node:fs/promises';
import { DCR_SPECS, REGISTRATION_PATH } from '../../auth/index.ts';
import { API_VERSIONS, VERSION_BASES, VERSION_SPECS, type VersionBases } from '../versions.ts';

/** The repository's copy of the official OpenAPI files (specs/README.md says where each comes from). */
export const SPECS_ROOT = new URL('../../../specs/', import.meta.url);

/** One OpenAPI file the bank serves an API by, as the docs publish it. */
export interface ApiDocument {
  /** The URL segment naming the API: the file's name less `-openapi.json` (`account-info`, `vrp`, `cvrp`). */
  api: string;
  /** The specification version: the file's folder (`v3.1.11`, `v4.0`, `v3.3`). */
  version: string;
  /** The file, relative to specs/. */
  file: string;
  /** Where the API is served on the mutual-TLS listener (a base path). */
  base: string;
}

/** What this instance serves: payments (PIS, VRP, events) need the bank's signing identity; DCR the auth part. */
export interface ServedApis {
  payments: boolean;
  registration: boolean;
}

function documentOf(file: string, base: string): ApiDocument {
  const [, version = '', name = ''] = file.split('/');
  return { api: name.replace(/-openapi\.json$/, ''), version, file, base };
}

/**
 * Every API and version the bank serves, with its file: read from versions.ts (what part.ts mounts) and
 * the DCR versions, never kept by hand, so a version mounted is a version documented.
 */
export function servedDocuments(served: ServedApis): ApiDocument[] {
  const readWrite = API_VERSIONS.flatMap((version) => {
    const bases = VERSION_BASES[version];
    const specs = VERSION_SPECS[version];
    const families = (Object.keys(bases) as (keyof VersionBases)[]).filter(
      // part.ts mounts payments and events only with the bank's signing identity.
      (family) => served.payments || (family !== 'pisp' && family !== 'events'),
    );
    const files = families.flatMap((family) => {
      const base = bases[family];
      const spec = specs[family];
      return base !== undefined && spec !== undefined ? [documentOf(spec, base)] : [];
    });
    const vrp = served.payments && bases.pisp ? specs.vrp.map((spec) => documentOf(spec, bases.pisp!)) : [];
    return [...files, ...vrp];
  });
  const registration = served.registration
    ? DCR_SPECS.map((spec) => documentOf(spec, REGISTRATION_PATH))
    : [];
  return [...readWrite, ...registration];
}

/** A document with its file's bytes (served as they are) and its `info.title`. */
export interface LoadedDocument extends ApiDocument {
  title: string;
  bytes: Buffer;
}

export async function loadDocument(document: ApiDocument): Promise<LoadedDocument> {
  const bytes = await readFile(new URL(document.file, SPECS_ROOT));
  const parsed = JSON.parse(bytes.toString('utf8')) as { info?: { title?: unknown } };
  const title = typeof parsed.info?.title === 'string' ? parsed.info.title : document.api;
  return { ...document, title, bytes };
}
