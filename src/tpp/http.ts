import { Agent, request, type Dispatcher } from 'undici';

/**
 * An answer the SDK did not expect from a bank or a directory, or no answer at all (`status` 0). It
 * carries what the CLI shows a person: the step that failed (`what`), the URL, the OAuth `error` and
 * `error_description` or the Open Banking `ErrorCode`s of the body, and the network error code.
 */
export class TppHttpError extends Error {
  override name = 'TppHttpError';
  readonly status: number;
  readonly body: unknown;
  readonly url: string | undefined;
  /** `ECONNREFUSED`, `ENOTFOUND`, `SELF_SIGNED_CERT_IN_CHAIN`, …: nothing came back. */
  readonly network: string | undefined;
  /** RFC 6749 error body: the same names openid-client's errors carry, so callers test `error.error`. */
  readonly error: string | undefined;
  readonly error_description: string | undefined;
  /** Open Banking error body: `Errors[].ErrorCode` (and `Code`). */
  readonly errorCodes: readonly string[];
  constructor(
    message: string,
    status: number,
    body: unknown,
    details: { url?: string | undefined; network?: string | undefined } = {},
  ) {
    super(message);
    this.status = status;
    this.body = body;
    this.url = details.url;
    this.network = details.network;
    const oauth = body as { error?: unknown; error_description?: unknown } | undefined;
    this.error = typeof oauth?.error === 'string' ? oauth.error : undefined;
    this.error_description =
      typeof oauth?.error_description === 'string' ? oauth.error_description : undefined;
    const ob = body as { Errors?: { ErrorCode?: unknown }[] } | undefined;
    this.errorCodes = Array.isArray(ob?.Errors)
      ? ob.Errors.map((entry) => entry.ErrorCode).filter((code): code is string => typeof code === 'string')
      : [];
  }
}

/** The code of a network failure (`fetch failed` and undici's errors keep it on `cause`). */
export function networkCodeOf(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && !code.startsWith('UND_ERR_SOCKET') && code !== 'UND_ERR') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return (error as Error).message;
}

/**
 * Turns a failure of openid-client (an OAuth error body, an unexpected status, a network failure) during
 * `what` into a TppHttpError naming the step, the URL and the bank's `error`/`error_description`.
 * Anything else is returned as it is.
 */
export function describeProtocolError(what: string, error: unknown): unknown {
  if (error instanceof TppHttpError) return error;
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof TppHttpError) return cause;
  const failed = error as {
    name?: string;
    error?: unknown;
    error_description?: unknown;
    status?: unknown;
    response?: { url?: string; status?: number };
    cause?: unknown;
  };
  if (
    (failed.name === 'ResponseBodyError' || failed.name === 'WWWAuthenticateChallengeError') &&
    typeof failed.error === 'string'
  ) {
    const status = typeof failed.status === 'number' ? failed.status : (failed.response?.status ?? 0);
    const body = { error: failed.error, error_description: failed.error_description };
    const description = typeof failed.error_description === 'string' ? `: ${failed.error_description}` : '';
    return new TppHttpError(
      `${what} failed with HTTP ${status}: ${failed.error}${description}`,
      status,
      body,
      {
        url: failed.response?.url,
      },
    );
  }
  if (failed.name === 'AuthorizationResponseError' && typeof failed.error === 'string') {
    const body = { error: failed.error, error_description: failed.error_description };
    const description = typeof failed.error_description === 'string' ? `: ${failed.error_description}` : '';
    return new TppHttpError(`${what} failed: the bank answered ${failed.error}${description}`, 0, body);
  }
  const response = failed.cause as { status?: unknown; url?: unknown } | undefined;
  if (
    failed.name === 'ClientError' &&
    typeof response?.status === 'number' &&
    typeof response.url === 'string'
  ) {
    return new TppHttpError(
      `${what} failed: unexpected HTTP ${response.status} (${(error as Error).message})`,
      response.status,
      undefined,
      { url: response.url },
    );
  }
  return error;
}

/** Runs one step of a protocol and names it in any failure (see `describeProtocolError`). */
export async function during<T>(what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw describeProtocolError(what, error);
  }
}

export interface HttpIdentity {
  certificatePem: string;
  privateKeyPem: string;
}

/**
 * A keep-alive HTTPS client. `trust` is the PEM CA list for the servers (the sandbox CA; system roots
 * when empty); `identity` the transport certificate for mutual TLS.
 */
export function createHttpClient(options: { trust?: string[]; identity?: HttpIdentity }): Agent {
  return new Agent({
    connect: {
      ...(options.trust && options.trust.length > 0 ? { ca: options.trust } : {}),
      ...(options.identity
        ? { cert: options.identity.certificatePem, key: options.identity.privateKeyPem }
        : {}),
    },
  });
}

export interface HttpResponse {
  url: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

export async function send(
  dispatcher: Dispatcher,
  url: string,
  init: { method?: Dispatcher.HttpMethod; headers?: Record<string, string>; body?: string } = {},
): Promise<HttpResponse> {
  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      dispatcher,
      method: init.method ?? 'GET',
      headers: init.headers,
      body: init.body,
    });
  } catch (error) {
    const network = networkCodeOf(error);
    throw new TppHttpError(`cannot reach ${url}: ${network}`, 0, undefined, { url, network });
  }
  const text = await response.body.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: callers read `text`.
  }
  return { url, status: response.statusCode, headers: response.headers, text, json };
}

export function describeFailure(what: string, response: HttpResponse): TppHttpError {
  const body = response.json as
    | { error_description?: string; error?: string; Message?: string; Errors?: { Message?: string }[] }
    | undefined;
  const oauth = body?.error
    ? `${body.error}${body.error_description ? `: ${body.error_description}` : ''}`
    : undefined;
  const ob = body?.Errors?.map((entry) => entry.Message)
    .filter(Boolean)
    .join('; ');
  const reason = oauth ?? (ob || body?.Message) ?? response.text.replace(/\s+/g, ' ').slice(0, 300);
  return new TppHttpError(
    `${what} failed with HTTP ${response.status}: ${reason}`,
    response.status,
    response.json,
    {
      url: response.url,
    },
  );
}
