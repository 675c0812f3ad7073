import { request, type Dispatcher } from 'undici';
import { TppHttpError } from './http.ts';

export interface SandboxDecision {
  username: string;
  decision: 'approve' | 'reject';
  /** Account ids to grant; default: every eligible account (the first one for payments). */
  accounts?: string[];
}

/** Cookies by name, as a browser would keep them for the bank's host during one journey. */
class CookieJar {
  readonly #cookies = new Map<string, string>();
  take(setCookie: string | string[] | undefined): void {
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair] = line.split(';');
      const at = pair?.indexOf('=') ?? -1;
      if (pair && at > 0) this.#cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
  }
  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

const MAX_REDIRECTS = 10;

/**
 * The sandbox's documented headless approval, for a TPP's CI: follows the authorisation URL like a
 * browser to the consent app, has the named sandbox PSU approve or reject there
 * (`POST /interaction/{uid}/sandbox-approve`), and follows the redirects back until the TPP's redirect
 * URI, which it returns without calling it. The bank refuses this outside its sandbox.
 */
export async function approveInSandbox(
  dispatcher: Dispatcher,
  authorizationUrl: URL,
  redirectUri: string,
  decision: SandboxDecision,
): Promise<URL> {
  const jar = new CookieJar();
  const get = async (url: URL) => {
    const response = await request(url, { dispatcher, method: 'GET', headers: { cookie: jar.header() } });
    jar.take(response.headers['set-cookie']);
    await response.body.dump();
    return response;
  };

  let url = authorizationUrl;
  for (let hop = 0; hop < MAX_REDIRECTS && !/\/interaction\/[^/]+$/.test(url.pathname); hop += 1) {
    const response = await get(url);
    const location = response.headers.location;
    if (typeof location !== 'string') {
      throw new TppHttpError(
        `the bank answered ${response.statusCode} at ${url.origin}${url.pathname} instead of sending the PSU to log in`,
        response.statusCode,
        undefined,
      );
    }
    url = new URL(location, url);
  }

  const approval = await request(new URL(`${url.pathname}/sandbox-approve`, url), {
    dispatcher,
    method: 'POST',
    headers: { cookie: jar.header(), 'content-type': 'application/json' },
    body: JSON.stringify(decision),
  });
  jar.take(approval.headers['set-cookie']);
  const answer = await approval.body.text();
  if (approval.statusCode !== 303 || typeof approval.headers.location !== 'string') {
    throw new TppHttpError(
      `sandbox approval failed with HTTP ${approval.statusCode}: ${answer.slice(0, 300)}`,
      approval.statusCode,
      answer,
    );
  }
  url = new URL(approval.headers.location, url);

  for (let hop = 0; hop < MAX_REDIRECTS; hop += 1) {
    if (url.href.startsWith(redirectUri)) return url;
    const response = await get(url);
    const location = response.headers.location;
    if (typeof location !== 'string') {
      throw new TppHttpError(
        `the bank answered ${response.statusCode} at ${url.pathname} on the way back to the TPP`,
        response.statusCode,
        undefined,
      );
    }
    url = new URL(location, url);
  }
  throw new TppHttpError('too many redirects on the way back to the TPP', 0, undefined);
}
