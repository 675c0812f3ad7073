/**
 * A browser's cookies for tests that drive the HTML pages without a browser: keeps every `Set-Cookie`
 * (the surface's session cookie and the page-security CSRF cookie `__Host-obkit-csrf`), forgets those set
 * to expire, and reads the hidden `csrf` field of a page's forms (src/shared/page-security).
 */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  /** Remembers the cookies of a response's `set-cookie` header (string or list). */
  take(setCookie: string | string[] | undefined | number): void {
    const lines = Array.isArray(setCookie) ? setCookie : typeof setCookie === 'string' ? [setCookie] : [];
    for (const line of lines) {
      const pair = line.split(';')[0]!;
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** The `Cookie` request header. */
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** The `Set-Cookie` line that sets cookie `name`, from a response's header (string or list). */
export function setCookieLine(setCookie: string | string[] | undefined | number, name: string): string {
  const lines = Array.isArray(setCookie) ? setCookie : typeof setCookie === 'string' ? [setCookie] : [];
  return lines.find((line) => line.startsWith(`${name}=`)) ?? '';
}

/** The CSRF token of the page's forms, or undefined when the page has no form. */
export function csrfOf(html: string): string | undefined {
  return /name="csrf" value="([^"]+)"/.exec(html)?.[1];
}

/**
 * What a browser holds after opening one of the platform's pages with a form: the page-security cookie
 * (`__Host-obkit-csrf=…`, for the `Cookie` header) and the token its forms carry (the `csrf` field).
 * `get` fetches the page without cookies (e.g. `call(dispatcher, url)` or an inject).
 */
export async function pageCsrf(
  get: () => Promise<{ headers: Record<string, string | string[] | undefined | number>; text: string }>,
): Promise<{ cookie: string; token: string }> {
  const page = await get();
  const cookie = setCookieLine(page.headers['set-cookie'], '__Host-obkit-csrf').split(';')[0] ?? '';
  const token = csrfOf(page.text);
  if (!cookie || !token) throw new Error('the page set no CSRF cookie or carries no form token');
  return { cookie, token };
}
