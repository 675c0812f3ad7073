/**
 * The one set of security headers every HTML page of every surface sends (consent app, dashboard, bank
 * app, directory pages, developer portal, the authorization server's error pages). Pages carry personal
 * data, so nothing is cached; no page may be framed; no inline script or style runs anywhere.
 *
 * Forms post to their own origin only (`form-action 'self'`), except where `formsRedirectAway`: browsers
 * apply `form-action` to the redirects that follow a post, and the consent app's posts end in a redirect to
 * the TPP's `redirect_uri`, which no list of ours can name in advance. The CSRF token (csrf.ts) protects
 * every form either way.
 */
export interface PageSecurityHeaderOptions {
  /** Other origins whose stylesheets a page loads (the authorization server's error pages use the consent app's). */
  styleOrigins?: readonly string[];
  /** The page runs same-origin scripts that fetch from its own origin (the bank app's live list). */
  sameOriginScripts?: boolean;
  /** The page's forms end in a redirect to another origin (the consent app's, back to the TPP). */
  formsRedirectAway?: boolean;
}

export function pageSecurityHeaders(options: PageSecurityHeaderOptions = {}): Record<string, string> {
  const styles = ["'self'", ...(options.styleOrigins ?? [])].join(' ');
  const directives = [
    "default-src 'none'",
    `style-src ${styles}`,
    "img-src 'self' https: data:",
    ...(options.sameOriginScripts ? ["script-src 'self'", "connect-src 'self'"] : []),
    ...(options.formsRedirectAway ? [] : ["form-action 'self'"]),
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ];
  return {
    'content-security-policy': directives.join('; '),
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    // No referrer at all: consent URLs carry interaction ids that the TPP or an image host must not see.
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  };
}
