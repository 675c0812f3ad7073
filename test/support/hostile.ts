import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import type { Store } from '../../src/store/index.ts';

/**
 * What a careless or hostile client sends, as data: one table of cases per route family, each with the
 * error format its family answers in. The tests (test/server/hostile-input.test.ts) send every case and
 * check the same three things of each: refused in its family's format, never a 5xx, nothing internal
 * leaked. That nothing was written is checked once around the whole corpus.
 */

/**
 * `ob`: the Open Banking error body (Read/Write APIs). `oauth`: RFC 6749 §5.2 (token, PAR, introspection,
 * revocation, CIBA). `dcr`: RFC 7591 §3.2.2, or no body (401/403/404/405 of OB DCR). `json-error`: the
 * `{ error, error_description }` of the directory's API and JWKms. `page`: an HTML error page.
 */
export type ErrorFamily = 'ob' | 'oauth' | 'dcr' | 'json-error' | 'page';

export interface HostileCase {
  name: string;
  family: ErrorFamily;
  listener: 'browser' | 'mtls';
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path and query, sent as written (so `%00` arrives as a percent-encoded NUL). */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** The status the case must get, when the family's specification names one (413 for a body over the limit). */
  status?: number;
  /** Which bearer token the case carries, so that the input, not a missing token, is what gets refused. */
  token?: 'client' | 'psu';
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };
/** Over every body limit we have (fastify's 1 MiB; the provider's 56 KiB). */
export const OVERSIZED_BODY_BYTES = 1_100_000;
const oversized = 'a'.repeat(OVERSIZED_BODY_BYTES);
const deepJson = `${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`;

/** Bodies no JSON endpoint may accept (the sweep of test/openbanking/payments-bad-input.test.ts). */
export const GARBAGE_JSON: readonly [string, string][] = [
  ['not JSON', 'Data: yes please'],
  ['truncated JSON', '{"Data":{"Initiation":'],
  ['an array', '[]'],
  ['null', 'null'],
  ['a string', '"pay me"'],
  ['an empty object', '{}'],
  ['wrong member types', '{"Data":{"Permissions":7},"Risk":[],"payload":5,"kid":[]}'],
  [
    'a NUL in a string',
    '{"Data":{"Permissions":["ReadAccountsBasic\\u0000"]},"payload":"\\u0000","kid":"a\\u0000"}',
  ],
  ['a NUL in a key', '{"Data\\u0000":{},"\\u0000":1}'],
  ['a prototype key', '{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}'],
  ['deep nesting', deepJson],
  ['a huge string', JSON.stringify({ payload: 'x'.repeat(200_000), Data: { x: 'y'.repeat(200_000) } })],
];

/** Form bodies no OAuth endpoint may accept. */
export const GARBAGE_FORMS: readonly [string, string][] = [
  ['a NUL in client_id', 'client_id=client%00id&grant_type=client_credentials&token=t&scope=openid'],
  ['a raw NUL byte in client_id', 'client_id=client\u0000id&grant_type=client_credentials&token=t'],
  ['a NUL in grant_type', 'client_id=x&grant_type=client%00credentials'],
  [
    'a NUL in the assertion',
    'client_id=x&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=a%00b.c.d',
  ],
  ['a NUL in the token', 'client_id=x&token=%00&token_type_hint=access_token'],
  ['a NUL in the request object', 'client_id=x&request=%00&response_type=code'],
  ['client_id twice', 'client_id=a&client_id=b&grant_type=client_credentials&token=t'],
  ['bad percent-encoding', 'client_id=%ZZ%&grant_type=%E0%A4%A'],
  ['no parameters', ''],
  ['a huge parameter', `client_id=${'c'.repeat(50_000)}&grant_type=client_credentials&token=t`],
  ['JSON under a form content type', '{"client_id":"x","grant_type":"client_credentials"}'],
];

const OAUTH_ENDPOINTS = ['/token', '/par', '/token/introspection', '/token/revocation', '/backchannel'];

function oauthCases(): HostileCase[] {
  const cases: HostileCase[] = [];
  for (const path of OAUTH_ENDPOINTS) {
    for (const [what, body] of GARBAGE_FORMS) {
      cases.push({
        name: `${path} with ${what}`,
        family: 'oauth',
        listener: 'mtls',
        method: 'POST',
        path,
        headers: FORM,
        body,
      });
    }
    cases.push(
      {
        name: `${path} with a body over the limit`,
        status: 413,
        family: 'oauth',
        listener: 'mtls',
        method: 'POST',
        path,
        headers: FORM,
        body: `client_id=x&pad=${oversized}`,
      },
      {
        name: `${path} as JSON`,
        family: 'oauth',
        listener: 'mtls',
        method: 'POST',
        path,
        headers: JSON_TYPE,
        body: '{"client_id":"x"}',
      },
      {
        name: `${path} as text/plain`,
        family: 'oauth',
        listener: 'mtls',
        method: 'POST',
        path,
        headers: { 'content-type': 'text/plain' },
        body: 'client_id=x',
      },
      {
        name: `${path} with a malformed content type`,
        family: 'oauth',
        listener: 'mtls',
        method: 'POST',
        path,
        headers: { 'content-type': ';;;/=' },
        body: 'client_id=x',
      },
    );
  }
  return cases;
}

function authorizeCases(): HostileCase[] {
  const queries: [string, string][] = [
    ['a NUL in client_id', 'client_id=client%00id&response_type=code%20id_token&scope=openid'],
    ['a NUL in the request object', 'client_id=x&request=%00&response_type=code'],
    ['a NUL in request_uri', 'client_id=x&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A%00'],
    ['client_id twice', 'client_id=a&client_id=b&response_type=code'],
    ['bad percent-encoding', 'client_id=%ZZ&response_type=%E0%A4%A'],
    ['no parameters', ''],
    ['a huge parameter', `client_id=x&request=${'r'.repeat(8000)}`],
  ];
  return [
    ...queries.map(([what, query]): HostileCase => ({
      name: `GET /authorize with ${what}`,
      family: 'page',
      listener: 'browser',
      method: 'GET',
      path: `/authorize?${query}`,
    })),
    {
      name: 'POST /authorize with a NUL in client_id',
      family: 'page',
      listener: 'browser',
      method: 'POST',
      path: '/authorize',
      headers: FORM,
      body: 'client_id=a%00b&response_type=code',
    },
    {
      name: 'POST /authorize with a body over the limit',
      status: 413,
      family: 'oauth',
      listener: 'browser',
      method: 'POST',
      path: '/authorize',
      headers: FORM,
      body: `client_id=x&pad=${oversized}`,
    },
  ];
}

function dcrCases(): HostileCase[] {
  const jwt = { 'content-type': 'application/jwt' };
  const bodies: [string, string, Record<string, string>][] = [
    ['not a JWT', 'hello', jwt],
    ['a JWT of garbage', 'a.b.c', jwt],
    ['a NUL inside the JWT', 'eyJhbGciOiJQUzI1NiJ9.\u0000.c', jwt],
    [
      'a JWT whose claims hold a NUL',
      `eyJhbGciOiJub25lIn0.${Buffer.from('{"software_statement":"\\u0000","redirect_uris":["\\u0000"]}').toString('base64url')}.`,
      jwt,
    ],
    ['JSON', '{"redirect_uris":["https://x.example/cb"]}', JSON_TYPE],
    ['an empty body', '', jwt],
    ['text/plain', 'a.b.c', { 'content-type': 'text/plain' }],
    ['a body over the limit', oversized, jwt],
  ];
  const cases: HostileCase[] = bodies.map(([what, body, headers]) => ({
    name: `POST /register with ${what}`,
    // OB DCR declares 400 (RegistrationError) for every refusal, a body over the limit too
    // (test/server/registration-errors.test.ts).
    ...(body === oversized ? { status: 400 } : {}),
    family: 'dcr',
    listener: 'mtls',
    method: 'POST',
    path: '/register',
    headers,
    body,
  }));
  for (const method of ['GET', 'PUT', 'DELETE'] as const) {
    for (const [what, id] of [
      ['a NUL in the client id', 'client%00id'],
      ['an over-long client id', 'c'.repeat(3000)],
      ['path traversal', '..%2F..%2Fetc%2Fpasswd'],
    ]) {
      cases.push({
        name: `${method} /register/{id} with ${what}`,
        family: 'dcr',
        listener: 'mtls',
        method,
        path: `/register/${id}`,
        headers: { authorization: 'Bearer a%00b', ...(method === 'PUT' ? jwt : {}) },
        ...(method === 'PUT' ? { body: 'a.b.c' } : {}),
      });
    }
  }
  return cases;
}

function jsonApiCases(family: ErrorFamily, listener: 'browser' | 'mtls', paths: string[]): HostileCase[] {
  const cases: HostileCase[] = [];
  for (const path of paths) {
    for (const [what, body] of GARBAGE_JSON) {
      cases.push({
        name: `POST ${path} with ${what}`,
        family,
        listener,
        method: 'POST',
        path,
        headers: JSON_TYPE,
        body,
      });
    }
    cases.push(
      {
        name: `POST ${path} with a body over the limit`,
        status: 413,
        family,
        listener,
        method: 'POST',
        path,
        headers: JSON_TYPE,
        body: oversized,
      },
      {
        name: `POST ${path} as text/plain`,
        family,
        listener,
        method: 'POST',
        path,
        headers: { 'content-type': 'text/plain' },
        body: '{}',
      },
    );
  }
  return cases;
}

function jwkmsCases(): HostileCase[] {
  // JWKms signs whatever JSON payload it is given, NULs included: a NUL in a payload is not hostile there.
  return jsonApiCases('json-error', 'mtls', [
    '/jwkms/v1/sign',
    '/jwkms/v1/sign-detached',
    '/jwkms/v1/sign-encrypt',
    '/jwkms/v1/decrypt',
    '/jwkms/v1/validate',
  ]).filter((entry) => !entry.name.endsWith('with a NUL in a string'));
}

function directoryApiCases(): HostileCase[] {
  const gets: [string, 'browser' | 'mtls'][] = [
    ['/directory/v1/organisations/org%00id/jwks', 'browser'],
    ['/directory/v1/organisations/org%00id/jwks/revoked', 'browser'],
    ['/directory/v1/software/sw%00id/logo.svg', 'browser'],
    ['/directory/v1/ocsp/%00%00', 'browser'],
    ['/directory/v1/ocsp/not-base64!!', 'browser'],
    ['/directory/v1/software/sw%00id', 'mtls'],
  ];
  return [
    ...jsonApiCases('json-error', 'browser', ['/directory/v1/onboard']),
    ...jsonApiCases('json-error', 'mtls', ['/directory/v1/software/sw%00id/ssa']),
    ...gets.map(([path, listener]): HostileCase => ({
      name: `GET ${path}`,
      family: 'json-error',
      listener,
      method: 'GET',
      path,
    })),
    {
      name: 'PUT /directory/v1/software/{id}/aspsp with a NUL',
      family: 'json-error',
      listener: 'mtls',
      method: 'PUT',
      path: '/directory/v1/software/sw%00id/aspsp',
      headers: JSON_TYPE,
      body: '{"discoveryUrl":"\\u0000"}',
    },
  ];
}

/** HTML pages: every hostile form and path is an error page (forms carry no CSRF token, so they are refused). */
function pageCases(): HostileCase[] {
  const forms: [string, string][] = [
    ['a NUL in every field', 'name=a%00b&username=a%00&password=%00&code=%00&csrf=%00'],
    ['a raw NUL byte', 'username=a\u0000b&password=x'],
    ['bad percent-encoding', 'username=%ZZ&password=%E0%A4%A'],
    ['fields twice', 'username=a&username=b&csrf=a&csrf=b'],
    ['a huge field', `username=${'u'.repeat(200_000)}`],
    ['JSON under a form content type', '{"username":"alice"}'],
  ];
  const posts = [
    '/directory/organisations',
    '/directory/sign-in',
    '/directory/organisations/org%00id/software',
    '/interaction/uid%00x/login',
    '/interaction/uid%00x/consent',
    '/interaction/not-a-uid/totp',
    '/dashboard/login',
    '/dashboard/totp',
    '/dashboard/consents/c%00id/revoke',
    '/bank-app/login',
    '/bank-app/requests/r%00id',
  ];
  const gets = [
    '/directory/organisations/org%00id',
    '/directory/software/sw%00id',
    '/interaction/uid%00x',
    '/dashboard/consents/c%00id',
    '/bank-app/requests/r%00id',
  ];
  const cases: HostileCase[] = [];
  for (const path of posts) {
    for (const [what, body] of forms) {
      cases.push({
        name: `POST ${path} with ${what}`,
        family: 'page',
        listener: 'browser',
        method: 'POST',
        path,
        headers: FORM,
        body,
      });
    }
    cases.push({
      name: `POST ${path} with a body over the limit`,
      status: 413,
      family: 'page',
      listener: 'browser',
      method: 'POST',
      path,
      headers: FORM,
      body: `username=${oversized}`,
    });
  }
  for (const path of gets) {
    cases.push({ name: `GET ${path}`, family: 'page', listener: 'browser', method: 'GET', path });
  }
  return cases;
}

/** AIS query parameters and paths, with a PSU token whose consent allows reading transactions. */
function aisCases(accountId: string): HostileCase[] {
  const base = '/open-banking/v3.1/aisp';
  const windows: [string, string][] = [
    ['not a date', 'fromBookingDateTime=yesterday'],
    ['a NUL', 'fromBookingDateTime=2024-01-01T00:00:00%00'],
    ['an impossible date', 'fromBookingDateTime=2024-13-45T25:61:61'],
    ['a year 275761', 'toBookingDateTime=275761-01-01T00:00:00'],
    ['an over-long value', `fromBookingDateTime=${'2'.repeat(10_000)}`],
    [
      'the parameter twice',
      'fromBookingDateTime=2024-01-01T00:00:00&fromBookingDateTime=2025-01-01T00:00:00',
    ],
    ['from after to', 'fromBookingDateTime=2025-01-01T00:00:00&toBookingDateTime=2024-01-01T00:00:00'],
    ['bad percent-encoding', 'fromBookingDateTime=%ZZ'],
    ['a SQL fragment', "fromBookingDateTime=2024-01-01'%20OR%201=1--"],
  ];
  const cases: HostileCase[] = [];
  for (const [resource, window] of [
    ['transactions', 'BookingDateTime'],
    ['statements', 'StatementDateTime'],
  ] as const) {
    for (const [what, bookingQuery] of windows) {
      const query = bookingQuery.replaceAll('BookingDateTime', window);
      cases.push({
        name: `GET /accounts/{id}/${resource} with ${what}`,
        family: 'ob',
        listener: 'mtls',
        method: 'GET',
        path: `${base}/accounts/${accountId}/${resource}?${query}`,
        token: 'psu',
      });
    }
  }
  cases.push(
    {
      name: 'GET /accounts/{id} with a NUL id',
      family: 'ob',
      listener: 'mtls',
      method: 'GET',
      path: `${base}/accounts/a%00b`,
      token: 'psu',
    },
    {
      name: 'GET /accounts/{id} with an over-long id',
      family: 'ob',
      listener: 'mtls',
      method: 'GET',
      path: `${base}/accounts/${'a'.repeat(5000)}`,
      token: 'psu',
    },
    {
      name: 'GET /account-access-consents/{id} with a NUL id',
      family: 'ob',
      listener: 'mtls',
      method: 'GET',
      path: `${base}/account-access-consents/aac-%00`,
      token: 'client',
    },
    ...jsonApiCases('ob', 'mtls', [`${base}/account-access-consents`]).map((entry) => ({
      ...entry,
      token: 'client' as const,
    })),
  );
  return cases;
}

/** Hostile headers on the Read/Write APIs (undici can send these; raw bytes are in `RAW_HEADER_CASES`). */
function headerCases(accountId: string): HostileCase[] {
  const path = `/open-banking/v3.1/aisp/accounts/${accountId}`;
  const headers: [string, Record<string, string>][] = [
    ['a malformed x-fapi-auth-date', { 'x-fapi-auth-date': 'yesterday at noon' }],
    ['a malformed x-fapi-customer-ip-address', { 'x-fapi-customer-ip-address': '999.1.1.1; drop table' }],
    ['an x-fapi-interaction-id that is not a UUID', { 'x-fapi-interaction-id': '<script>alert(1)</script>' }],
    ['an over-long x-fapi-interaction-id', { 'x-fapi-interaction-id': 'a'.repeat(4000) }],
    ['a malformed authorization header', { authorization: 'Bearer' }],
    ['a Basic authorization header', { authorization: 'Basic YTpi' }],
  ];
  return headers.map(([what, extra]): HostileCase => ({
    name: `GET /accounts/{id} with ${what}`,
    family: 'ob',
    listener: 'mtls',
    method: 'GET',
    path,
    headers: extra,
    token: extra.authorization ? undefined : 'psu',
  }));
}

/** Every table of cases; `accountId` is an account the PSU token may read. */
export function hostileCorpus(accountId: string): Record<string, HostileCase[]> {
  return {
    'OAuth endpoints (token, PAR, introspection, revocation, CIBA)': oauthCases(),
    '/authorize': authorizeCases(),
    DCR: dcrCases(),
    JWKms: jwkmsCases(),
    'directory API': directoryApiCases(),
    'pages (directory, consent, dashboard, bank app)': pageCases(),
    'AIS paths, queries and bodies': aisCases(accountId),
    'hostile headers': headerCases(accountId),
  };
}

/**
 * Requests whose bytes no HTTP client library will send (a NUL in a header, duplicated framing headers,
 * headers over the size limit): written on a TLS socket as they are. Node refuses them before a route
 * runs; the answer is still a readable 4xx in the OB error format with an interaction id.
 */
export const RAW_HEADER_CASES: readonly { name: string; head: string; status: number }[] = [
  { name: 'a NUL byte in a header value', head: 'x-fapi-interaction-id: a\u0000b\r\n', status: 400 },
  { name: 'a header over 16 KiB', head: `x-padding: ${'p'.repeat(20_000)}\r\n`, status: 431 },
  {
    name: 'two content-length headers that disagree',
    head: 'content-length: 1\r\ncontent-length: 2\r\n',
    status: 400,
  },
  { name: 'a header name with a space', head: 'x fapi: 1\r\n', status: 400 },
  {
    name: 'both content-length and chunked',
    head: 'content-length: 3\r\ntransfer-encoding: chunked\r\n',
    status: 400,
  },
];

/** Text that says an answer came from inside the process: a stack frame, a source path, SQL, a driver error. */
const LEAKS: readonly [string, RegExp][] = [
  ['a stack frame', /\bat [\w.<>]+ \(|\bat .+:\d+:\d+/],
  ['a source path', /\/(?:work|home|root|usr|tmp)\/|node_modules|\.ts:\d+|file:\/\//],
  [
    'SQL',
    /\b(?:select|insert|update|delete)\b[^"]{0,80}\b(?:from|into|set|where)\b|syntax error at|relation "|violates|PGlite|postgres|invalid byte sequence/i,
  ],
  ['an internal error name', /\b(?:TypeError|ReferenceError|RangeError|SyntaxError|FST_ERR|ERR_[A-Z_]+)\b/],
];

export interface HostileAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Asserts a refusal in the family's format that neither is a 5xx nor leaks anything internal. */
export function assertRefused(answer: HostileAnswer, family: ErrorFamily, what: string): void {
  const shown = `${what}: ${answer.status} ${answer.text.slice(0, 300)}`;
  assert.ok(
    (answer.status >= 400 && answer.status < 500) || (family === 'page' && answer.status === 303),
    shown,
  );
  for (const [name, pattern] of LEAKS) {
    assert.doesNotMatch(
      answer.text,
      pattern,
      `${what}: the answer leaks ${name}: ${answer.text.slice(0, 300)}`,
    );
  }
  const type = String(answer.headers['content-type'] ?? '');
  if (family === 'page' && answer.status === 303) {
    // A page behind sign-in sends a visitor without a session to sign in, whatever the path holds.
    assert.match(String(answer.headers['location']), /^\/[a-z-]+(?:\/login)?(?:\?|$)/, shown);
    return;
  }
  if (family === 'page') {
    assert.match(type, /^text\/html\b/, shown);
    assert.match(answer.text, /<html[\s>]/i, shown);
    return;
  }
  if (family === 'dcr' && answer.text === '') {
    assert.ok(
      [401, 403, 404, 405].includes(answer.status),
      `${shown}: an empty DCR answer is 401/403/404/405`,
    );
    return;
  }
  assert.match(type, /^application\/json\b/, shown);
  const body = JSON.parse(answer.text) as Record<string, unknown>;
  if (family === 'ob') {
    assert.equal(body['Code'], String(answer.status), shown);
    assert.equal(typeof body['Id'], 'string', shown);
    assert.equal(typeof body['Message'], 'string', shown);
    const errors = body['Errors'] as { ErrorCode?: unknown }[];
    assert.ok(Array.isArray(errors) && errors.length > 0, shown);
    for (const error of errors) assert.match(String(error.ErrorCode), /^UK\.OBIE\./, shown);
    return;
  }
  // RFC 6749 §5.2, RFC 7591 §3.2.2 and the directory's and JWKms' API share this shape.
  assert.equal(typeof body['error'], 'string', shown);
  assert.match(String(body['error']), /^[a-z_]+$/, shown);
  for (const key of Object.keys(body)) {
    assert.ok(
      ['error', 'error_description', 'error_uri'].includes(key),
      `${shown}: unexpected member ${key}`,
    );
  }
}

/**
 * Rows in every table of the schema, by table: what "nothing was written" is checked against. Left out:
 * `rate_limits`, whose leased quotas count every request (hostile ones too) on PostgreSQL, and `mi_hourly`,
 * the Open Banking MI, which counts every call by endpoint, refused ones included, and is flushed on its
 * own timer (a flush during the corpus added rows on a loaded machine) — that counting is the rate
 * limiter and MI doing their work, not the request writing anything.
 */
export async function rowCounts(store: Store): Promise<Record<string, number>> {
  const rowsOf = <T>(result: unknown) =>
    (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
  const tables = rowsOf<{ name: string }>(
    await store.db.execute(
      sql`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' and table_name not in ('rate_limits', 'mi_hourly') order by 1`,
    ),
  );
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const [row] = rowsOf<{ n: number }>(
      await store.db.execute(sql.raw(`select count(*)::int as n from "${name}"`)),
    );
    counts[name] = Number(row?.n ?? -1);
  }
  return counts;
}
