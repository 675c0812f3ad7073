/** Server-rendered HTML: every interpolated value goes through `html` or `escapeHtml`. No inline script. */
const entities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => entities[char]!);
}

/** Markup that is already safe (built by `html`). */
export class SafeHtml {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

type Interpolated = string | number | SafeHtml | readonly SafeHtml[] | undefined | null | false;

/** A tagged template that escapes every interpolated string; arrays of SafeHtml are joined. */
export function html(strings: TemplateStringsArray, ...values: Interpolated[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    if (value instanceof SafeHtml) out += value.text;
    else if (Array.isArray(value)) out += value.map((item: SafeHtml) => item.text).join('');
    else if (value !== undefined && value !== null && value !== false) out += escapeHtml(String(value));
    out += strings[index + 1] ?? '';
  });
  return new SafeHtml(out);
}
