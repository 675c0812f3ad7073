import { html, type SafeHtml } from './html.ts';
import { layout, type Site } from './layout.ts';

/**
 * The one error page: what happened and what to do, in one or two lines of truth — never a stack trace,
 * never an internal message a person cannot act on.
 */
export interface ErrorPage {
  title: string;
  message: string;
  /** Extra lines (e.g. when a lock-out ends). */
  details?: string[];
  /** What the person may do next: a form or a link (the consent app's "Cancel and return to …"). */
  actions?: SafeHtml;
  /** The request's id (`x-fapi-interaction-id`), for the person to quote when they contact the bank. */
  reference?: string | undefined;
  /** The OAuth error the app's developer looks for, when the page stands in for an error response. */
  technical?: { error: string; description?: string | undefined } | undefined;
}

export function errorPage(site: Site, page: ErrorPage): string {
  return layout(
    site,
    page.title,
    html`<h1>${page.title}</h1>
      <p role="alert">${page.message}</p>
      ${(page.details ?? []).map((line) => html`<p>${line}</p>`)} ${page.actions}
      ${
        page.reference
          ? html`<p class="hint">
              Reference: <code id="reference">${page.reference}</code>. Quote it if you contact us or the app.
            </p>`
          : ''
      }
      ${
        page.technical
          ? html`<p class="hint">
              For the app's developer: <code id="error-code">${page.technical.error}</code>${
                page.technical.description
                  ? html` – <span id="error-description">${page.technical.description}</span>`
                  : ''
              }
            </p>`
          : ''
      }`,
  );
}

/** The texts every app uses when it has nothing more specific to say. */
export const ERROR_TEXTS = {
  /** The database cannot answer (503 with Retry-After). */
  unavailable: {
    title: 'Temporarily unavailable',
    message:
      'We cannot complete this step right now. Try again in a moment, or go back to the app that sent you here.',
  },
  /** A form without a valid CSRF token (a cross-site post, or a page open for too long). */
  formExpired: {
    title: 'Your session has expired',
    message: 'For your security this form can no longer be sent. Open the page again.',
  },
  badRequest: { title: 'We could not read that', message: 'Your browser sent something we did not expect.' },
  failure: { title: 'Something went wrong', message: 'Please try again in a moment.' },
  notFound: { title: 'Page not found', message: 'There is no such page.' },
} as const satisfies Record<string, ErrorPage>;
