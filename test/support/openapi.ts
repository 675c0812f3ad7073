/**
 * Validates response bodies against the official OpenAPI 3.0 files in specs/ (copies of the official files), with ajv 8.
 *
 *   assertValidResponse('ob-read-write/v3.1.11/account-info-openapi.json', '/accounts/{AccountId}', 'get', 200, body)
 *
 * `path` may be the spec's template (`/accounts/{AccountId}/transactions`) or a concrete request path
 * (`/accounts/acc-1/transactions`, optionally with the server's base path such as
 * `/open-banking/v3.1/aisp` in front, and a query string). The whole spec document is given to ajv
 * once, so `$ref`s to components resolve natively; OpenAPI 3.0's `nullable` is understood by ajv;
 * `format`s come from ajv-formats (date-time, uri, int32, int64, float, …); vendor keywords (`x-…`),
 * `example`, `discriminator` and other annotations are ignored (strict mode off for that document).
 */
import { AssertionError } from 'node:assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isAbsolute, join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

export const specsRoot = fileURLToPath(new URL('../../specs/', import.meta.url));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface LoadedSpec {
  id: string;
  document: JsonObject;
  /** Path templates with a matcher for concrete paths. */
  templates: { template: string; pattern: RegExp }[];
  basePaths: string[];
}

const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, discriminator: false });
// ajv-formats is CommonJS with `exports.default`; under Node's ESM interop the default import is the module.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;
addFormats(ajv);

const specs = new Map<string, LoadedSpec>();
const validators = new Map<string, ValidateFunction>();

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function loadSpec(specFile: string): LoadedSpec {
  const file = isAbsolute(specFile) ? specFile : join(specsRoot, specFile);
  const cached = specs.get(file);
  if (cached) return cached;
  const document = JSON.parse(readFileSync(file, 'utf8')) as JsonObject;
  if (typeof document.openapi !== 'string' || !document.openapi.startsWith('3.')) {
    throw new Error(`${specFile} is not an OpenAPI 3 document`);
  }
  const id = `https://obkit.invalid/specs/${encodeURIComponent(file)}`;
  ajv.addSchema(document as object, id);
  const paths = isObject(document.paths) ? document.paths : {};
  const templates = Object.keys(paths).map((template) => ({
    template,
    pattern: new RegExp(
      `^${template
        .split(/(\{[^}]+\})/)
        .map((part) => (part.startsWith('{') ? '[^/]+' : escapeRegExp(part)))
        .join('')}$`,
    ),
  }));
  const servers = Array.isArray(document.servers) ? document.servers : [];
  const basePaths = servers.flatMap((server) => {
    if (!isObject(server) || typeof server.url !== 'string') return [];
    try {
      return [new URL(server.url, 'https://placeholder.invalid').pathname.replace(/\/$/, '')];
    } catch {
      return [];
    }
  });
  const loaded = { id, document, templates, basePaths };
  specs.set(file, loaded);
  return loaded;
}

function pointerEscape(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function resolveTemplate(spec: LoadedSpec, path: string): string {
  const paths = spec.document.paths as JsonObject;
  const bare = path.split('?')[0] ?? path;
  if (bare in paths) return bare;
  const candidates = [
    bare,
    ...spec.basePaths.filter((b) => b && bare.startsWith(b)).map((b) => bare.slice(b.length)),
  ];
  for (const candidate of candidates) {
    if (candidate in paths) return candidate;
    // Prefer the most literal template (fewest parameters) when several match.
    const matches = spec.templates
      .filter((t) => t.pattern.test(candidate))
      .sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0));
    if (matches[0]) return matches[0].template;
  }
  throw new Error(`no path ${path} in the spec (known: ${Object.keys(paths).slice(0, 8).join(', ')}, …)`);
}

function follow(spec: LoadedSpec, pointer: string): Json | undefined {
  let node: Json | undefined = spec.document;
  for (const raw of pointer.replace(/^#\//, '').split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node)) return undefined;
    node = node[token];
  }
  return node;
}

/** The JSON pointer (into the spec) of the response body schema for path + method + status. */
export function responseSchemaPointer(
  specFile: string,
  path: string,
  method: string,
  status: number | string,
): string {
  const spec = loadSpec(specFile);
  const template = resolveTemplate(spec, path);
  const verb = method.toLowerCase();
  const operationPointer = `#/paths/${pointerEscape(template)}/${verb}`;
  const operation = follow(spec, operationPointer);
  if (!isObject(operation)) throw new Error(`${verb.toUpperCase()} ${template} is not in the spec`);
  const responses = operation.responses;
  if (!isObject(responses)) throw new Error(`${verb.toUpperCase()} ${template} has no responses`);
  const code = String(status);
  const key = code in responses ? code : `${code[0]}XX` in responses ? `${code[0]}XX` : 'default';
  let responsePointer = `${operationPointer}/responses/${pointerEscape(key)}`;
  let response = follow(spec, responsePointer);
  if (!isObject(response)) {
    throw new Error(
      `${verb.toUpperCase()} ${template} declares no ${code} response (has ${Object.keys(responses).join(', ')})`,
    );
  }
  for (let hops = 0; typeof response.$ref === 'string' && hops < 10; hops += 1) {
    responsePointer = response.$ref;
    response = follow(spec, responsePointer);
    if (!isObject(response)) throw new Error(`unresolvable response $ref ${responsePointer}`);
  }
  const content = response.content;
  if (!isObject(content))
    throw new Error(`${verb.toUpperCase()} ${template} ${code} has no body in the spec`);
  const mediaType =
    Object.keys(content).find((m) => m === 'application/json; charset=utf-8') ??
    Object.keys(content).find((m) => m.startsWith('application/json')) ??
    Object.keys(content)[0];
  if (!mediaType) throw new Error(`${verb.toUpperCase()} ${template} ${code} has no media type`);
  return `${responsePointer}/content/${pointerEscape(mediaType)}/schema`;
}

function validatorFor(
  specFile: string,
  path: string,
  method: string,
  status: number | string,
): ValidateFunction {
  const spec = loadSpec(specFile);
  const pointer = responseSchemaPointer(specFile, path, method, status);
  const key = `${spec.id}${pointer}`;
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile({ $ref: `${spec.id}${pointer}` });
    validators.set(key, validate);
  }
  return validate;
}

export function formatErrors(errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((error) => {
    const where = error.instancePath || '(body)';
    const extra =
      error.keyword === 'additionalProperties'
        ? ` "${String((error.params as { additionalProperty?: string }).additionalProperty)}"`
        : error.keyword === 'enum'
          ? ` ${JSON.stringify((error.params as { allowedValues?: unknown }).allowedValues)}`
          : '';
    return `${where} ${error.message ?? error.keyword}${extra}`;
  });
}

export interface ValidationResult {
  valid: boolean;
  errors: string[];
}

export function validateResponse(
  specFile: string,
  path: string,
  method: string,
  status: number | string,
  body: unknown,
): ValidationResult {
  const validate = validatorFor(specFile, path, method, status);
  const valid = validate(body) as boolean;
  return { valid, errors: valid ? [] : formatErrors(validate.errors) };
}

/** Throws an AssertionError listing every violation when `body` is not what the spec says. */
export function assertValidResponse(
  specFile: string,
  path: string,
  method: string,
  status: number | string,
  body: unknown,
): void {
  const result = validateResponse(specFile, path, method, status, body);
  if (!result.valid) {
    throw new AssertionError({
      message: `${method.toUpperCase()} ${path} ${status} does not match ${specFile}:\n  ${result.errors.join('\n  ')}`,
      actual: body,
      operator: 'assertValidResponse',
    });
  }
}

/** Validates any value against a named component schema (e.g. `OBTransaction6`). */
export function validateComponent(specFile: string, name: string, value: unknown): ValidationResult {
  const spec = loadSpec(specFile);
  const pointer = `#/components/schemas/${pointerEscape(name)}`;
  if (follow(spec, pointer) === undefined) throw new Error(`no component schema ${name} in ${specFile}`);
  const key = `${spec.id}${pointer}`;
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile({ $ref: key });
    validators.set(key, validate);
  }
  const valid = validate(value) as boolean;
  return { valid, errors: valid ? [] : formatErrors(validate.errors) };
}

/** The commercial VRP profile of v4.0 VRP: what cVRP consents and payments are validated against. */
export const CVRP_V4_0 = 'ob-cvrp/v4.0/cvrp-openapi.json';

export const AIS_V3_1_11 = 'ob-read-write/v3.1.11/account-info-openapi.json';
export const PIS_V3_1_11 = 'ob-read-write/v3.1.11/payment-initiation-openapi.json';
export const COF_V3_1_11 = 'ob-read-write/v3.1.11/confirmation-funds-openapi.json';
export const VRP_V3_1_11 = 'ob-read-write/v3.1.11/vrp-openapi.json';
export const AIS_V4_0 = 'ob-read-write/v4.0/account-info-openapi.json';
export const COF_V4_0 = 'ob-read-write/v4.0/confirmation-funds-openapi.json';
export const PIS_V4_0 = 'ob-read-write/v4.0/payment-initiation-openapi.json';
export const VRP_V4_0 = 'ob-read-write/v4.0/vrp-openapi.json';
export const EVENTS_V3_1_11 = 'ob-read-write/v3.1.11/events-openapi.json';
export const EVENTS_V4_0 = 'ob-read-write/v4.0/events-openapi.json';
export const EVENT_NOTIFICATIONS_V3_1_11 = 'ob-read-write/v3.1.11/event-notifications-openapi.json';
export const EVENT_NOTIFICATIONS_V4_0 = 'ob-read-write/v4.0/event-notifications-openapi.json';
