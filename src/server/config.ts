import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import { OB_DIRECTORY_TRUST_ANCHOR } from '../shared/ob-jws-claims.ts';

/**
 * One typed configuration, read from the environment and an optional JSON file (`OBKIT_CONFIG` or
 * `--config`). The environment wins over the file. Validation happens before anything touches the disk,
 * so a bad value never leaves half-written state behind.
 */

const port = z.coerce.number().int().min(0).max(65_535);
const booleanFromText = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((text) => ['true', '1', 'yes'].includes(text)),
]);
const listFromText = z.union([
  z.array(z.string()),
  z.string().transform((text) =>
    text
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  ),
]);
const ipOrCidr = z.string().refine((value) => {
  const [address, prefix, ...rest] = value.split('/');
  if (rest.length > 0 || !address || !isIP(address)) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return Number.isInteger(bits) && bits >= 0 && bits <= (isIP(address) === 4 ? 32 : 128);
}, 'an IP address or CIDR block such as 10.0.0.0/8');
const headerName = z
  .string()
  .regex(/^[A-Za-z0-9-]+$/, 'an HTTP header name (letters, digits, hyphens)')
  .transform((name) => name.toLowerCase());
const httpsUrl = z
  .string()
  .refine((value) => URL.canParse(value) && new URL(value).protocol === 'https:', 'an https:// URL');
/** A JSON list, given as a list (JSON file) or as JSON text (environment). */
const jsonListFromText = (message: string) =>
  z.preprocess((value, context) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message, input: value });
      return z.NEVER;
    }
  }, z.array(z.unknown()));
const trustedDirectory = z.strictObject({
  /** The `iss` of the directory's SSAs (the Open Banking directory: `OpenBanking Ltd`). */
  issuer: z.string().min(1),
  /** Where the directory publishes its SSA-signing keys. */
  jwksUri: httpsUrl,
});
/** Requests per rate-limit window; 0 turns the limit off. */
const rateLimitQuota = z.coerce.number().int().min(0).max(100_000_000);
const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// URL')
  .refine((value) => URL.canParse(value), 'a valid URL');

export const configSchema = z.object({
  dataDir: z.string().min(1).default('./.obkit'),
  databaseUrl: postgresUrl.optional(),
  databasePoolSize: z.coerce.number().int().min(1).max(500).default(10),
  /**
   * PostgreSQL: each instance's cache lease (`src/store/cache-lease.ts`), in milliseconds. While held, a
   * request reads no change version (every announcing writer waits for this instance to hear its change,
   * at most this long for an instance that stopped hearing); 0 = no lease, every request reads it.
   */
  cacheLeaseMs: z.coerce.number().int().min(0).max(60_000).default(3_000),
  bindHost: z.string().min(1).default('127.0.0.1'),
  /** The host name TPPs and browsers use to reach us; the sandbox's server certificate names it. */
  publicHost: z.string().min(1).default('localhost'),
  browserPort: port.default(8443),
  mtlsPort: port.default(8444),
  /**
   * The ports TPPs and browsers reach when a load balancer listens in front (deploy/): every instance then
   * names the same URLs (issuer, directory, `tan`) whatever port it binds itself. Default: the bound ports.
   */
  publicBrowserPort: port.min(1).optional(),
  publicMtlsPort: port.min(1).optional(),
  /**
   * The operator listener (console, metrics): the bank's own staff, never TPPs or customers. Its own host
   * and port, loopback by default, so that it is reached only through whatever the bank puts in front.
   */
  operatorBindHost: z.string().min(1).default('127.0.0.1'),
  operatorPort: port.default(8445),
  mtlsMode: z.enum(['direct', 'proxy']).default('direct'),
  trustedProxies: listFromText.pipe(z.array(ipOrCidr)).default([]),
  clientCertHeader: headerName.default('client-cert'),
  /** PEM files; when absent the sandbox PKI provides the server certificate and the trust anchors. */
  tlsCertFile: z.string().optional(),
  tlsKeyFile: z.string().optional(),
  trustAnchorFiles: listFromText.default([]),
  /** DCR: directories whose SSAs are accepted; in the sandbox, besides its own directory. */
  trustedDirectories: jsonListFromText('must be a JSON list such as [{"issuer":"…","jwksUri":"https://…"}]')
    .pipe(z.array(trustedDirectory))
    .default([]),
  /** DCR: `aud` values accepted in registration requests besides our URLs (the bank's directory ids). */
  directoryAudiences: listFromText.default([]),
  /** DCR: PEM files of the CAs that issue TPP transport certificates (between them and the trust anchors). */
  transportCaFiles: listFromText.default([]),
  /**
   * The bank's message-signing identity for the payment APIs (production; the sandbox makes its own):
   * a PKCS#8 PEM RSA key (PS256), its `kid` in the bank's JWKS at the directory, and the
   * `http://openbanking.org.uk/iss` of its signatures, which its trust anchor defines: under the Open Banking
   * Directory (`openbanking.org.uk`) the bank's organisation id alone. All or none.
   */
  signingKeyFile: z.string().min(1).optional(),
  signingKid: z.string().min(1).optional(),
  signingIssuer: z.string().min(1).optional(),
  /**
   * `http://openbanking.org.uk/tan` of signatures, ours and the TPPs': `openbanking.org.uk` in production
   * unless set; in the sandbox its directory's host unless set (see messageSigningTrustAnchor).
   */
  signingTrustAnchor: z
    .string()
    .regex(/^[^\s/]+$/, 'a domain name (with a port if need be) identifying the trust anchor')
    .optional(),
  /** PEM files of CAs trusted, besides the system's, when fetching TPP software JWKS. */
  jwksCaFiles: listFromText.default([]),
  /** How often the payment scheduler looks for due scheduled payments and standing orders. */
  schedulerIntervalMs: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  /** Push attempts per event notification before it is left for polling. */
  eventPushAttempts: z.coerce.number().int().min(1).max(50).default(8),
  /** The wait after an event's first failed push; doubled after each further failure. */
  eventPushBackoffMs: z.coerce.number().int().min(100).max(3_600_000).default(1_000),
  /** The longest wait between two push attempts of an event. */
  eventPushMaxBackoffMs: z.coerce.number().int().min(100).max(86_400_000).default(3_600_000),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  shutdownTimeoutMs: z.coerce.number().int().min(0).max(600_000).default(10_000),
  /** Revocation checks refuse a certificate when neither OCSP nor CRL answers, unless this is false. */
  revocationFailClosed: booleanFromText.default(true),
  /**
   * The longest a client certificate's revocation status is kept before OCSP (or the CRL) is asked again;
   * an answer's own nextUpdate shortens it, a revocation at the sandbox directory ends it at once.
   */
  revocationCacheSeconds: z.coerce.number().int().min(0).max(86_400).default(300),
  /**
   * Where a production bank reads participant status: its directory's MLA status API
   * (`…/v2.1/organisation/mlastatus`, specs/ob-mla-status/v2.1). An organisation not listed Active is refused
   * at registration, at the token endpoint and at every API; unreachable, `revocationFailClosed` decides.
   * The sandbox reads its own directory and ignores it.
   */
  participantStatusUrl: httpsUrl.optional(),
  /** The longest the participant status list is kept before it is read again. */
  participantStatusCacheSeconds: z.coerce.number().int().min(1).max(86_400).default(300),
  /** PEM certificate and key the bank presents (mutual TLS) when it reads `participantStatusUrl`. */
  participantStatusCertFile: z.string().min(1).optional(),
  participantStatusKeyFile: z.string().min(1).optional(),
  /**
   * Whether JWKS may be fetched from loopback, private and other special-use addresses (a directory on an
   * internal network, tests); off, such fetches are refused (SSRF protection).
   */
  outboundPrivateAddresses: booleanFromText.default(false),
  /**
   * Rate limits (README, "Rate limits"): requests allowed per fixed window of `rateLimitWindowSeconds`, per
   * client on the mutual-TLS listener, per IP address on the browser listener, on the PSU's login steps and
   * at the OCSP responder. 0 turns that limit off. The defaults are far above what the sandbox and the tests do.
   */
  rateLimitWindowSeconds: z.coerce.number().int().min(1).max(86_400).default(60),
  rateLimitMtls: rateLimitQuota.default(100_000),
  rateLimitBrowser: rateLimitQuota.default(30_000),
  rateLimitLogin: rateLimitQuota.default(300),
  rateLimitOcsp: rateLimitQuota.default(6_000),
  /**
   * A bearer token Prometheus must send to read `/metrics` on the operator listener; unset, `/metrics`
   * answers without one (the listener binds loopback by default).
   */
  metricsToken: z
    .string()
    .regex(/^[\x21-\x7e]{16,512}$/, '16 to 512 printable characters, no spaces')
    .optional(),
  /** How often each instance writes its batch of MI figures to the database (and at shutdown). */
  miFlushIntervalMs: z.coerce.number().int().min(100).max(600_000).default(5_000),
  /** Sandbox conveniences (headless PSU approval, no-approval onboarding); never on in production. */
  sandbox: booleanFromText.default(true),
});

export type Config = z.infer<typeof configSchema>;
type ConfigKey = keyof Config;

/** Environment variable for each key. DATABASE_URL keeps its conventional name. */
export const environmentNames: Record<ConfigKey, string> = {
  dataDir: 'OBKIT_DATA_DIR',
  databaseUrl: 'DATABASE_URL',
  databasePoolSize: 'OBKIT_DATABASE_POOL_SIZE',
  cacheLeaseMs: 'OBKIT_CACHE_LEASE_MS',
  bindHost: 'OBKIT_BIND_HOST',
  publicHost: 'OBKIT_PUBLIC_HOST',
  browserPort: 'OBKIT_BROWSER_PORT',
  mtlsPort: 'OBKIT_MTLS_PORT',
  publicBrowserPort: 'OBKIT_PUBLIC_BROWSER_PORT',
  publicMtlsPort: 'OBKIT_PUBLIC_MTLS_PORT',
  operatorBindHost: 'OBKIT_OPERATOR_BIND_HOST',
  operatorPort: 'OBKIT_OPERATOR_PORT',
  mtlsMode: 'OBKIT_MTLS_MODE',
  trustedProxies: 'OBKIT_TRUSTED_PROXIES',
  clientCertHeader: 'OBKIT_CLIENT_CERT_HEADER',
  tlsCertFile: 'OBKIT_TLS_CERT_FILE',
  tlsKeyFile: 'OBKIT_TLS_KEY_FILE',
  trustAnchorFiles: 'OBKIT_TRUST_ANCHOR_FILES',
  trustedDirectories: 'OBKIT_TRUSTED_DIRECTORIES',
  directoryAudiences: 'OBKIT_DIRECTORY_AUDIENCES',
  transportCaFiles: 'OBKIT_TRANSPORT_CA_FILES',
  signingKeyFile: 'OBKIT_SIGNING_KEY_FILE',
  signingKid: 'OBKIT_SIGNING_KID',
  signingIssuer: 'OBKIT_SIGNING_ISSUER',
  signingTrustAnchor: 'OBKIT_SIGNING_TRUST_ANCHOR',
  jwksCaFiles: 'OBKIT_JWKS_CA_FILES',
  schedulerIntervalMs: 'OBKIT_SCHEDULER_INTERVAL_MS',
  eventPushAttempts: 'OBKIT_EVENT_PUSH_ATTEMPTS',
  eventPushBackoffMs: 'OBKIT_EVENT_PUSH_BACKOFF_MS',
  eventPushMaxBackoffMs: 'OBKIT_EVENT_PUSH_MAX_BACKOFF_MS',
  logLevel: 'OBKIT_LOG_LEVEL',
  shutdownTimeoutMs: 'OBKIT_SHUTDOWN_TIMEOUT_MS',
  revocationFailClosed: 'OBKIT_REVOCATION_FAIL_CLOSED',
  revocationCacheSeconds: 'OBKIT_REVOCATION_CACHE_SECONDS',
  participantStatusUrl: 'OBKIT_PARTICIPANT_STATUS_URL',
  participantStatusCacheSeconds: 'OBKIT_PARTICIPANT_STATUS_CACHE_SECONDS',
  participantStatusCertFile: 'OBKIT_PARTICIPANT_STATUS_CERT_FILE',
  participantStatusKeyFile: 'OBKIT_PARTICIPANT_STATUS_KEY_FILE',
  outboundPrivateAddresses: 'OBKIT_OUTBOUND_PRIVATE_ADDRESSES',
  rateLimitWindowSeconds: 'OBKIT_RATE_LIMIT_WINDOW_SECONDS',
  rateLimitMtls: 'OBKIT_RATE_LIMIT_MTLS',
  rateLimitBrowser: 'OBKIT_RATE_LIMIT_BROWSER',
  rateLimitLogin: 'OBKIT_RATE_LIMIT_LOGIN',
  rateLimitOcsp: 'OBKIT_RATE_LIMIT_OCSP',
  metricsToken: 'OBKIT_METRICS_TOKEN',
  miFlushIntervalMs: 'OBKIT_MI_FLUSH_INTERVAL_MS',
  sandbox: 'OBKIT_SANDBOX',
};

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

export interface ConfigSources {
  env?: NodeJS.ProcessEnv;
  /** A JSON file of the same keys; overrides OBKIT_CONFIG. */
  file?: string;
  /** Values set by the command line; they win over everything. */
  overrides?: Partial<Record<ConfigKey, unknown>>;
}

export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env;
  const raw: Record<string, unknown> = {};
  const origin: Record<string, string> = {};

  const file = sources.file ?? env.OBKIT_CONFIG;
  if (file) {
    for (const [key, value] of Object.entries(readConfigFile(file))) {
      raw[key] = value;
      origin[key] = `${key} in ${file}`;
    }
  }
  for (const [key, name] of Object.entries(environmentNames)) {
    const value = env[name];
    if (value !== undefined && value !== '') {
      raw[key] = value;
      origin[key] = `${name} (${key})`;
    }
  }
  for (const [key, value] of Object.entries(sources.overrides ?? {})) {
    if (value !== undefined) {
      raw[key] = value;
      origin[key] = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} (${key})`;
    }
  }

  const unknownKeys = Object.keys(raw).filter((key) => !(key in environmentNames));
  const parsed = configSchema.safeParse(raw);
  const problems = unknownKeys.map(
    (key) =>
      `${origin[key] ?? key}: unknown key; allowed keys are ${Object.keys(environmentNames).join(', ')}`,
  );
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '');
      const given = key in raw ? `; got ${JSON.stringify(raw[key])}` : '';
      const within = issue.path
        .slice(1)
        .map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`))
        .join('');
      problems.push(
        `${origin[key] ?? key}: ${within ? `at ${within}: ` : ''}${describeIssue(issue)}${given}`,
      );
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const config = parsed.data;
  if ((config.tlsCertFile === undefined) !== (config.tlsKeyFile === undefined)) {
    throw new ConfigError(['OBKIT_TLS_CERT_FILE and OBKIT_TLS_KEY_FILE: set both or neither']);
  }
  if ((config.participantStatusCertFile === undefined) !== (config.participantStatusKeyFile === undefined)) {
    throw new ConfigError([
      'OBKIT_PARTICIPANT_STATUS_CERT_FILE and OBKIT_PARTICIPANT_STATUS_KEY_FILE: set both or neither',
    ]);
  }
  if (config.mtlsMode === 'proxy' && config.trustedProxies.length === 0) {
    throw new ConfigError([
      'OBKIT_TRUSTED_PROXIES (trustedProxies): proxy mode needs at least one trusted proxy address',
    ]);
  }
  const fileProblems = [
    ...checkSigningIdentity(config, origin),
    ...(['transportCaFiles', 'jwksCaFiles', 'trustAnchorFiles'] as const).flatMap((key) =>
      config[key].flatMap((file) => checkCertificateFile(file, origin[key] ?? key)),
    ),
    ...(config.tlsCertFile
      ? checkCertificateFile(config.tlsCertFile, origin.tlsCertFile ?? 'tlsCertFile', 'server certificates')
      : []),
    ...(config.tlsKeyFile ? checkPrivateKeyFile(config.tlsKeyFile, origin.tlsKeyFile ?? 'tlsKeyFile') : []),
    ...(config.participantStatusCertFile
      ? checkCertificateFile(
          config.participantStatusCertFile,
          origin.participantStatusCertFile ?? 'participantStatusCertFile',
          'client certificates',
        )
      : []),
    ...(config.participantStatusKeyFile
      ? checkPrivateKeyFile(
          config.participantStatusKeyFile,
          origin.participantStatusKeyFile ?? 'participantStatusKeyFile',
        )
      : []),
  ];
  if (fileProblems.length > 0) throw new ConfigError(fileProblems);
  return { ...config, dataDir: resolve(config.dataDir) };
}

const SIGNING_KEYS = ['signingKeyFile', 'signingKid', 'signingIssuer'] as const;

/** The bank's signing identity is set whole or not at all, and its key is an RSA PKCS#8 key we can read. */
function checkSigningIdentity(config: Config, origin: Record<string, string>): string[] {
  const given = SIGNING_KEYS.filter((key) => config[key] !== undefined);
  if (given.length === 0) return [];
  if (given.length < SIGNING_KEYS.length) {
    const set = given.map((key) => origin[key] ?? key).join(', ');
    return SIGNING_KEYS.filter((key) => config[key] === undefined).map(
      (key) =>
        `${environmentNames[key]} (${key}): missing; the bank's signing identity needs ${SIGNING_KEYS.join(', ')} together (set: ${set})`,
    );
  }
  const trustAnchor = config.signingTrustAnchor ?? OB_DIRECTORY_TRUST_ANCHOR;
  if (
    !config.sandbox &&
    trustAnchor === OB_DIRECTORY_TRUST_ANCHOR &&
    !/^[^/\s]+$/.test(config.signingIssuer ?? '')
  ) {
    return [
      `${origin.signingIssuer ?? 'signingIssuer'}: under the trust anchor ${OB_DIRECTORY_TRUST_ANCHOR} the bank's http://openbanking.org.uk/iss is its organisation id alone (a TPP's is <org id>/<software id>); got ${JSON.stringify(config.signingIssuer)}`,
    ];
  }
  const file = config.signingKeyFile ?? '';
  const name = origin.signingKeyFile ?? 'signingKeyFile';
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    return [`${name}: cannot read ${file}: ${(error as Error).message}`];
  }
  const wanted =
    'an unencrypted PKCS#8 PEM RSA private key (-----BEGIN PRIVATE KEY-----) of at least 2048 bits';
  if (!pem.includes('-----BEGIN PRIVATE KEY-----')) return [`${name}: ${file} must hold ${wanted}`];
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'rsa') {
      return [`${name}: ${file} holds a ${String(key.asymmetricKeyType)} key; PS256 needs ${wanted}`];
    }
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)
      return [`${name}: ${file} must hold ${wanted}`];
  } catch (error) {
    return [`${name}: ${file} is not ${wanted}: ${(error as Error).message}`];
  }
  return [];
}

function checkCertificateFile(file: string, name: string, what = 'CA certificates'): string[] {
  try {
    new X509Certificate(readFileSync(file));
    return [];
  } catch (error) {
    return [`${name}: ${file} must be a readable PEM file of ${what}: ${(error as Error).message}`];
  }
}

function checkPrivateKeyFile(file: string, name: string): string[] {
  try {
    createPrivateKey(readFileSync(file));
    return [];
  } catch (error) {
    return [`${name}: ${file} must be a readable, unencrypted PEM private key: ${(error as Error).message}`];
  }
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`OBKIT_CONFIG: cannot read ${file}: ${(error as Error).message}`]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`OBKIT_CONFIG: ${file} is not valid JSON: ${(error as Error).message}`]);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError([`OBKIT_CONFIG: ${file} must hold a JSON object of configuration keys`]);
  }
  return value as Record<string, unknown>;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}`;
    case 'invalid_type':
      return `must be ${issue.expected === 'number' ? 'a number' : issue.expected === 'int' ? 'an integer' : `of type ${issue.expected}`}`;
    default:
      return issue.message;
  }
}
