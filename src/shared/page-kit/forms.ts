import { CSRF_FIELD } from './csrf.ts';
import { html, type SafeHtml } from './html.ts';

/**
 * Form bodies and form markup. A posted `application/x-www-form-urlencoded` body reaches a handler as a
 * `Form` (the page kit's plugin parses it); a repeated field is a list.
 */
export type Form = Record<string, string | string[]>;

export function parseForm(body: string): Form {
  const form: Form = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const existing = form[key];
    if (existing === undefined) form[key] = value;
    else form[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return form;
}

/** The posted form of a request (an empty one when the body was not a form). */
export function formOf(body: unknown): Form {
  return (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Form;
}

/** The field's one value; undefined when absent or repeated. */
export function field(form: Form, name: string): string | undefined {
  const value = form[name];
  return typeof value === 'string' ? value : undefined;
}

export function fieldList(form: Form, name: string): string[] {
  const value = form[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** The hidden CSRF field every form carries; `token` is `csrfToken(reply)`. */
export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${token}" />`;
}

/** A form that posts to `action` with its CSRF field, holding `content` (inputs and buttons). */
export function postForm(action: string, csrf: string, content: SafeHtml, className?: string): SafeHtml {
  return html`<form method="post" action="${action}" ${className ? html`class="${className}"` : ''}>
    ${csrfField(csrf)} ${content}
  </form>`;
}

/** A submit button; `secondary` is the outlined style, `danger` the red one. */
export function button(
  label: string,
  options: { name?: string; value?: string; style?: 'secondary' | 'danger'; noValidate?: boolean } = {},
): SafeHtml {
  return html`<button
    type="submit"
    ${options.name ? html`name="${options.name}"` : ''}
    ${options.value !== undefined ? html`value="${options.value}"` : ''}
    ${options.style ? html`class="${options.style}"` : ''}
    ${options.noValidate ? html`formnovalidate` : ''}
  >
    ${label}
  </button>`;
}

/** A labelled text input (`type` text, email, url, password or number). */
export function textInput(
  id: string,
  label: string,
  options: {
    type?: 'text' | 'email' | 'url' | 'password' | 'number';
    value?: string | undefined;
    required?: boolean;
    maxLength?: number;
    autocomplete?: string;
  } = {},
): SafeHtml {
  return html`<label for="${id}">${label}</label>
    <input
      id="${id}"
      name="${id}"
      type="${options.type ?? 'text'}"
      ${options.value !== undefined ? html`value="${options.value}"` : ''}
      ${options.required ? html`required` : ''}
      ${options.maxLength !== undefined ? html`maxlength="${options.maxLength}"` : ''}
      ${options.autocomplete ? html`autocomplete="${options.autocomplete}"` : ''}
    />`;
}
