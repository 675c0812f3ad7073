import { existsSync, readFileSync } from 'node:fs';
import { Agent, request, type Dispatcher } from 'undici';

/** An HTTP answer the SDK did not expect; carries the status and the body so the CLI can show them. */
export class TppHttpError extends Error {
  override name = 'TppHttpError';
  readonly status: number;
  readonly body: unknown;
  constructor(message: string, status: number, body: unknown) {
    super(message);
    this.status = status;
    this.body = body;
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

/** The sandbox CA written by `obkit sandbox` in this folder, if any: the default trust for local use. */
export function localSandboxTrust(cwd = process.cwd()): string[] {
  const file = `${cwd}/.obkit/pki/root-ca.pem`;
  return existsSync(file) ? [readFileSync(file, 'utf8')] : [];
}

export interface HttpResponse {
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
    const reason = (error as { code?: string; message?: string }).code ?? (error as Error).message;
    throw new TppHttpError(`cannot reach ${url}: ${reason}`, 0, undefined);
  }
  const text = await response.body.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: callers read `text`.
  }
  return { status: response.statusCode, headers: response.headers, text, json };
}

export function describeFailure(what: string, response: HttpResponse): TppHttpError {
  const body = response.json as { error_description?: string; error?: string; Message?: string } | undefined;
  const reason = body?.error_description ?? body?.Message ?? body?.error ?? response.text.slice(0, 300);
  return new TppHttpError(
    `${what} failed with HTTP ${response.status}: ${reason}`,
    response.status,
    response.json,
  );
}
