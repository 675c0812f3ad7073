import { html, type SafeHtml } from './html.ts';

/**
 * The one page layout: a skip link, the site's header (its name, an optional tagline and navigation),
 * `main`, and an optional footer, with the one stylesheet (stylesheet.ts) served by the app at
 * `site.stylesheet`. No script, no inline style.
 */
export interface Site {
  /** Shown in the header and after every page title, e.g. the bank's name. */
  name: string;
  /** The URL path the app serves the stylesheet at (the kit's plugin option `stylesheet`). */
  stylesheet: string;
  /** When set, the site's name links here. */
  home?: string;
  /** A short line beside the name, e.g. "Open Banking sandbox". */
  tagline?: string;
  /** Links (`<a>`s) in the header's navigation. */
  nav?: SafeHtml;
  footer?: string;
  /** Pages with tables (the directory, the console): a wider column. */
  wide?: boolean;
}

export function layout(site: Site, title: string, body: SafeHtml): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${title} – ${site.name}</title>
        <link rel="stylesheet" href="${site.stylesheet}" />
      </head>
      <body ${site.wide ? html`class="wide"` : ''}>
        <a class="skip" href="#main">Skip to content</a>
        <header>
          ${site.home ? html`<a class="site" href="${site.home}">${site.name}</a>` : html`<span class="site">${site.name}</span>`}
          ${site.tagline ? html`<span class="tagline">${site.tagline}</span>` : ''}
          ${site.nav ? html`<nav aria-label="Main">${site.nav}</nav>` : ''}
        </header>
        <main id="main">${body}</main>
        ${site.footer ? html`<footer>${site.footer}</footer>` : ''}
      </body>
    </html> `.value;
}
