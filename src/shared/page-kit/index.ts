/**
 * The page kit: what every server-rendered HTML app of obkit is built from (the consent app, the
 * dashboard, the bank app, the directory pages, the developer portal, the operator console).
 *
 *   installPageKit(app, { name, secret, problem, stylesheet?, headers?, exempt?, formBodyLimit?, statusOf? })
 *       first thing in the app's encapsulated plugin: form parsing, security headers, CSRF check of every
 *       write, and every error answered by `problem` (a page, never a stack trace). plugin.ts
 *   html`…` / SafeHtml / escapeHtml     the template tag that escapes every value. html.ts
 *   layout(site, title, body)           the page: header (name, tagline, nav), main, footer; one stylesheet
 *                                       (STYLESHEET, served by the plugin's `stylesheet` option). layout.ts
 *   errorPage(site, { title, message, details?, actions?, reference?, technical? }) and ERROR_TEXTS.
 *   csrfToken(reply) → csrfField(token) / postForm(action, csrf, content) / button / textInput. forms.ts
 *   Form, field, fieldList, formOf(request.body): the parsed form body. forms.ts
 *   readCookie, appendSetCookie, sessionCookie, expiredCookie: cookies. cookies.ts
 *   pageSecurityHeaders(options): the header set, for answers outside a kit scope (oauth errors). headers.ts
 *   sendPage(reply, status, html): an HTML answer.
 *
 * The CSRF secret lives in the store (`loadOrCreateSecret(db, PAGE_SECURITY_SECRET_SETTING)`); src/shared
 * imports no part, so the app loads it and passes it in.
 */
export {
  appendSetCookie,
  expiredCookie,
  readCookie,
  sessionCookie,
  type SameSite,
  type SessionCookieOptions,
} from './cookies.ts';
export { CSRF_COOKIE, CSRF_FIELD, csrfToken, PAGE_SECURITY_SECRET_SETTING } from './csrf.ts';
export { ERROR_TEXTS, errorPage, type ErrorPage } from './error-page.ts';
export { button, csrfField, field, fieldList, formOf, postForm, textInput, type Form } from './forms.ts';
export { pageSecurityHeaders, type PageSecurityHeaderOptions } from './headers.ts';
export { escapeHtml, html, SafeHtml } from './html.ts';
export { layout, type Site } from './layout.ts';
export { installPageKit, sendPage, type PageKitOptions, type PageProblem } from './plugin.ts';
export { STYLESHEET } from './stylesheet.ts';
