import { refusalOf } from '../server/data-dir.ts';
import { TppHttpError } from '../tpp/http.ts';

/**
 * What a person sees when an `obkit` command fails: one line saying what failed (with the bank's OAuth
 * `error`/`error_description` or Open Banking `ErrorCode`, and the URL), and a second line saying what to
 * try. Exit 2 for bad usage or configuration, 1 for a refusal or a failure at run time. No stack trace
 * unless `--debug`; with `--json`, the same as a JSON object on stdout.
 */

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CliFailure {
  exitCode: typeof EXIT_FAILURE | typeof EXIT_USAGE;
  message: string;
  /** What to try. */
  hint?: string;
  status?: number;
  url?: string;
  error?: string;
  error_description?: string;
  errorCodes?: readonly string[];
  network?: string;
}

/** Errors whose message is already a complete sentence about a bad value given by the person. */
const USAGE_ERRORS = new Set(['ConfigError', 'UnknownPartError', 'TppUsageError', 'OperatorUsageError']);
/** Errors whose message already says what failed, and that are not the person's typing. */
const STATED_FAILURES = new Set(['BundleError']);

const UNTRUSTED_CERTIFICATE = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What to try after an OAuth error, by its `error` code (and, where the bank is vague, its description). */
function oauthHint(error: string, description: string): string | undefined {
  if (error === 'unauthorized_client' || /ciba is not allowed/i.test(description))
    return 'register the bundle for decoupled authorisation: npx obkit tpp register --bundle <dir> --ciba poll';
  switch (error) {
    case 'unknown_user_id':
      return 'the bank knows no customer by that name: check --psu (sandbox customers: alice, bob, carol, dave-ltd)';
    case 'access_denied':
      return 'the customer refused: nothing was authorised; ask them again with a new request';
    case 'expired_token':
      return 'the customer did not answer in time: run the command again (--expiry gives them longer, up to 600 s)';
    case 'invalid_binding_message':
      return '--binding-message must be short plain text (letters, digits, spaces)';
    case 'invalid_client':
      return 'the bank does not know this client: register again with npx obkit tpp register --bundle <dir> --new';
    case 'invalid_scope':
      return "the client is not registered for that scope: its software statement's roles decide what it may ask";
    case 'invalid_software_statement':
    case 'unapproved_software_statement':
      return 'the bank does not accept this software statement: check the directory it trusts (onboard there)';
    default:
      return undefined;
  }
}

function networkHint(network: string, url: string | undefined): string | undefined {
  const where = url && URL.canParse(url) ? new URL(url).origin : 'that address';
  if (network === 'ECONNREFUSED')
    return `nothing answers at ${where}: start the sandbox (npm start), or give the right --bank / --directory URL`;
  if (network === 'ENOTFOUND' || network === 'EAI_AGAIN')
    return `the host of ${where} does not resolve: check the URL`;
  if (network === 'ETIMEDOUT' || network === 'UND_ERR_CONNECT_TIMEOUT')
    return `${where} did not answer in time: check the URL and the network`;
  if (UNTRUSTED_CERTIFICATE.has(network))
    return `the server certificate of ${where} is not trusted: give --ca with its CA (the sandbox's is <dataDir>/pki/root-ca.pem)`;
  if (/ALERT|ECONNRESET/.test(network))
    return `${where} refused the TLS handshake: is the bundle's transport certificate issued by a directory this bank trusts, and still valid?`;
  return undefined;
}

export function describeCliFailure(error: unknown): CliFailure {
  const name = (error as { name?: unknown }).name;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;

  if (typeof code === 'string' && code.startsWith('commander.'))
    return { exitCode: EXIT_USAGE, message: message.replace(/^error: /, '') };
  // The data dir's refusals (lock held, damaged folder, missing master key) say what to do themselves.
  const refusal = refusalOf(error);
  if (refusal) return { exitCode: refusal.exitCode, message: refusal.message };
  if (typeof name === 'string' && USAGE_ERRORS.has(name)) return { exitCode: EXIT_USAGE, message };
  if (typeof name === 'string' && STATED_FAILURES.has(name)) return { exitCode: EXIT_FAILURE, message };

  if (code === 'EADDRINUSE' || code === 'EACCES') {
    const { port, address } = error as { port?: number; address?: string };
    const at = `port ${port ?? '?'}${address ? ` on ${address}` : ''}`;
    return code === 'EADDRINUSE'
      ? {
          exitCode: EXIT_FAILURE,
          message: `cannot listen: ${at} is already in use (another obkit sandbox, or another server)`,
          hint: 'stop that process, or choose other ports: --browser-port/--mtls-port/--operator-port (OBKIT_BROWSER_PORT/OBKIT_MTLS_PORT/OBKIT_OPERATOR_PORT; 0 picks a free one)',
        }
      : {
          exitCode: EXIT_FAILURE,
          message: `cannot listen: ${at} needs privileges this process does not have`,
          hint: 'choose ports above 1023: --browser-port/--mtls-port/--operator-port (OBKIT_BROWSER_PORT/OBKIT_MTLS_PORT/OBKIT_OPERATOR_PORT)',
        };
  }

  if (error instanceof TppHttpError) {
    const hint =
      (error.network ? networkHint(error.network, error.url) : undefined) ??
      (error.error ? oauthHint(error.error, error.error_description ?? '') : undefined);
    const codes = error.errorCodes.length > 0 ? ` [${error.errorCodes.join(', ')}]` : '';
    const at = error.url && !message.includes(error.url) ? ` (${error.url})` : '';
    return {
      exitCode: EXIT_FAILURE,
      message: `${message}${codes}${at}`,
      ...(hint ? { hint } : {}),
      ...(error.status ? { status: error.status } : {}),
      ...(error.url ? { url: error.url } : {}),
      ...(error.error ? { error: error.error } : {}),
      ...(error.error_description ? { error_description: error.error_description } : {}),
      ...(error.errorCodes.length > 0 ? { errorCodes: error.errorCodes } : {}),
      ...(error.network ? { network: error.network } : {}),
    };
  }

  return {
    exitCode: EXIT_FAILURE,
    message: message.split('\n')[0] ?? message,
    hint: 'this was not expected: run the command again with --debug for the stack trace, and report it',
  };
}

/** Writes the failure for a person (stderr) and, with `--json`, for a program (stdout); returns the exit code. */
export function reportFailure(
  error: unknown,
  options: { json: boolean; debug: boolean; alreadyPrinted?: boolean },
): number {
  const failure = describeCliFailure(error);
  const lines = options.alreadyPrinted
    ? []
    : [`obkit: ${failure.message}`, ...(failure.hint ? [`  ${failure.hint}`] : [])];
  if (options.debug) {
    let current: unknown = error;
    for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
      lines.push(depth === 0 ? (current.stack ?? String(current)) : `caused by: ${current.stack ?? ''}`);
      current = current.cause;
    }
  }
  if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
  if (options.json) process.stdout.write(`${JSON.stringify({ error: failure }, null, 2)}\n`);
  return failure.exitCode;
}
