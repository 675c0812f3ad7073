import assert from 'node:assert/strict';

/**
 * The error page a person sees (src/consent/app/pages.ts `errorPage`), read the way a test needs it: its
 * shape (HTML in English, a heading, the error announced, what to do, the x-fapi-interaction-id) and,
 * when it stands in for an OAuth error response, the error code shown to the app's developer.
 */
export interface PageResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function unescapeHtml(text: string): string {
  const entities: Record<string, string> = {
    '&amp;': '&',
    '&lt;': '<',
    '&gt;': '>',
    '&quot;': '"',
    '&#39;': "'",
    '&#96;': '`',
  };
  return text.replace(/&(?:amp|lt|gt|quot|#39|#96);/g, (entity) => entities[entity] ?? entity);
}

/** The OAuth error and description the error page shows the app's developer (src/consent/app/pages.ts). */
export function errorShownOnPage(page: string): { error?: string; description?: string; reference?: string } {
  const pick = (pattern: RegExp) => {
    const found = pattern.exec(page)?.[1];
    return found === undefined ? undefined : unescapeHtml(found);
  };
  const error = pick(/<code id="error-code">([^<]*)<\/code>/);
  const description = pick(/<span id="error-description">([^<]*)<\/span>/);
  const reference = pick(/<code id="reference">([^<]*)<\/code>/);
  return {
    ...(error !== undefined ? { error } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(reference !== undefined ? { reference } : {}),
  };
}

/** Asserts an accessible error page with this status; returns what it shows. */
export function assertErrorPage(response: PageResponse, status: number): ReturnType<typeof errorShownOnPage> {
  assert.equal(response.status, status, response.body);
  assert.match(String(response.headers['content-type']), /^text\/html; charset=utf-8/);
  assert.equal(response.headers['location'], undefined, 'not redirected');
  assert.match(response.body, /^<!doctype html>/i);
  assert.match(response.body, /<html lang="en">/);
  assert.match(response.body, /<title>[^<]+<\/title>/);
  assert.match(response.body, /<h1>[^<]+<\/h1>/);
  assert.match(response.body, /<p role="alert">[^<]+<\/p>/);
  assert.match(response.body, /go back to the app/i, 'says what to do');
  assert.doesNotMatch(response.body, /\bat .+:\d+:\d+/, 'no stack trace');
  assert.match(String(response.headers['content-security-policy']), /default-src 'none'/);
  const shown = errorShownOnPage(response.body);
  assert.ok(shown.reference, 'the interaction id is shown');
  assert.equal(shown.reference, response.headers['x-fapi-interaction-id']);
  return shown;
}
