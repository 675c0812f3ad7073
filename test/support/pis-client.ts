import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  clientCredentialsToken,
  completeAuthorization,
  startAuthorization,
} from '../../src/tpp/authorization.ts';
import { signRequestBody } from '../../src/tpp/message-signing.ts';
import { apiBaseOf, callApi } from '../../src/tpp/open-banking.ts';
import { approveInSandbox } from '../../src/tpp/sandbox-approval.ts';
import { browserClient, type Sandbox, type Tpp } from './journey.ts';
import { assertValidResponse, validateComponent } from './openapi.ts';

export type Answer = Awaited<ReturnType<typeof callApi>>;
export type Body = {
  Data: Record<string, unknown>;
  Risk?: Record<string, unknown>;
  Errors?: { ErrorCode: string; Path?: string; Url?: string }[];
};
export type Version = '4.0' | '3.1.11';

export interface SendOptions {
  method?: 'POST' | 'PUT' | 'PATCH';
  /** The version whose PIS base the path is under (default v4.0), or a base URL of its own. */
  version?: Version;
  base?: string;
  /** The x-jws-signature to send instead of the TPP's; null: none. */
  signature?: string | null;
  contentType?: string;
  /** The x-idempotency-key (default a fresh one). */
  key?: string;
  headers?: Record<string, string>;
}

/**
 * A TPP's payment calls for the journey tests of the v4.0 payment APIs (PIS, VRP, cVRP): signed requests
 * with fresh idempotency keys, answers checked against `spec` (the file the test is about), v4.0's error
 * body, and a consent approved by a sandbox customer.
 */
export function pisClient(sandbox: Sandbox, tpp: Tpp, spec: string) {
  const { bank, bundle, redirectUri } = tpp;
  const pispOf = (version: Version = '4.0') => `${apiBaseOf(bank, undefined, version)}/pisp`;

  /** POSTs (PUTs, PATCHes) `text` to `url` signed by the TPP unless `options.signature` says otherwise. */
  async function sendText(
    token: string,
    url: string,
    text: string,
    options: SendOptions = {},
  ): Promise<Answer> {
    const jws =
      options.signature === undefined ? await signRequestBody(bank, bundle, text) : options.signature;
    return callApi(bank, token, url, {
      method: options.method ?? 'POST',
      body: text,
      headers: {
        'x-idempotency-key': options.key ?? randomUUID(),
        ...(options.contentType ? { 'content-type': options.contentType } : {}),
        ...(jws === null ? {} : { 'x-jws-signature': jws }),
        ...options.headers,
      },
    });
  }

  /** Sends `body` to `path` under the PIS base of `options.version` (or `options.base`). */
  const send = (token: string, path: string, body: unknown, options: SendOptions = {}) =>
    sendText(token, `${options.base ?? pispOf(options.version)}${path}`, JSON.stringify(body), options);

  return {
    /** v4.0's PIS base URL. */
    pisp: pispOf('4.0'),
    pispOf,
    sendText,
    send,
    /** POSTs `body` signed by the TPP (or with `signature` instead; null: none). */
    post: (token: string, path: string, body: unknown, signature?: string | null) =>
      send(token, path, body, signature === undefined ? {} : { signature }),
    get: (token: string, path: string, version: Version = '4.0') =>
      callApi(bank, token, `${pispOf(version)}${path}`),

    /** The answer, valid against `spec` (or `file`), as a body. */
    valid(path: string, method: string, answer: Answer, file = spec): Body {
      assertValidResponse(file, path, method, answer.status, answer.json);
      return answer.json as Body;
    },

    /** A v4.0 error: `status`, OBErrorResponse1 of `spec`, an error `code` (at `at`, if given), no top-level Code. */
    v4Error(answer: Answer, status: number, code: string, at?: string): void {
      assert.equal(answer.status, status, answer.text);
      const component = validateComponent(spec, 'OBErrorResponse1', answer.json);
      assert.ok(component.valid, component.errors.join('\n'));
      const errors = (answer.json as Body).Errors ?? [];
      assert.ok(
        errors.some((e) => e.ErrorCode === code && (at === undefined || e.Path === at)),
        `expected ${code}${at ? ` at ${at}` : ''}, got ${answer.text}`,
      );
      assert.equal((answer.json as { Code?: string }).Code, undefined, 'no top-level Code on v4.0');
    },

    clientToken: async () => (await clientCredentialsToken(bank, 'payments')).access_token,

    /** `username` (alice) approves the consent in the sandbox, choosing `accounts` if given; the PSU's access token. */
    async approve(
      consentId: string,
      choice: { username?: string; accounts?: string[] } = {},
    ): Promise<string> {
      const pending = await startAuthorization(bank, { intentId: consentId, scope: 'payments', redirectUri });
      const tokens = await completeAuthorization(
        bank,
        pending,
        await approveInSandbox(browserClient(sandbox), pending.url, redirectUri, {
          username: choice.username ?? 'alice',
          decision: 'approve',
          ...(choice.accounts ? { accounts: choice.accounts } : {}),
        }),
      );
      return tokens.access_token;
    },
  };
}
