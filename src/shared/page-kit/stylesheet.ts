/**
 * The one stylesheet of every page (layout.ts): plain, high-contrast, one column that fits a phone, focus
 * always visible. An app serves it (the kit's plugin option `stylesheet`), with its own few rules appended
 * when it has any.
 */
export const STYLESHEET = `
:root { --ink: #1b1b1b; --muted: #4a4a4a; --brand: #0b3d91; --error: #b00020; --line: #c8c8c8; --focus: #ffbf47; }
* { box-sizing: border-box; }
body { margin: 0; font: 1.0625rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f4f5f7; }
header { background: var(--brand); color: #fff; padding: 0.75rem 1rem; font-weight: 700; }
main { max-width: 36rem; margin: 1rem auto; padding: 1.25rem; background: #fff; border-radius: 0.5rem; }
footer { max-width: 36rem; margin: 0 auto 2rem; padding: 0 1.25rem; color: var(--muted); font-size: 0.875rem; }
h1 { font-size: 1.5rem; line-height: 1.25; margin: 0.5rem 0 1rem; }
h2 { font-size: 1.125rem; margin: 1rem 0 0.25rem; }
label { display: block; font-weight: 600; margin: 1rem 0 0.25rem; }
input[type=text], input[type=password], input[type=email], input[type=url], input[type=number], textarea, select { width: 100%; padding: 0.625rem; font: inherit; border: 2px solid var(--ink); border-radius: 0.25rem; }
button { display: inline-block; margin-top: 1.25rem; padding: 0.75rem 1.25rem; font: inherit; font-weight: 700; color: #fff; background: var(--brand); border: 2px solid var(--brand); border-radius: 0.25rem; cursor: pointer; }
button.secondary { color: var(--brand); background: #fff; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; box-shadow: 0 0 0 5px var(--ink); }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 0.5rem; background: #fff; padding: 0.5rem; z-index: 1; }
.error { color: var(--error); font-weight: 600; border-left: 4px solid var(--error); padding-left: 0.75rem; }
.hint, .who { color: var(--muted); }
.sandbox { border-left: 4px solid var(--focus); background: #fff8e1; padding: 0.5rem 0.75rem; }
.tpp { display: flex; align-items: center; gap: 0.75rem; color: var(--muted); }
.tpp img { border-radius: 0.25rem; }
.facts div { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; padding: 0.5rem 0; border-bottom: 1px solid var(--line); }
.facts dt { font-weight: 600; min-width: 10rem; }
.facts dd { margin: 0; }
fieldset { border: 1px solid var(--line); border-radius: 0.25rem; margin: 1.25rem 0 0; padding: 0.5rem 1rem 1rem; }
legend { font-weight: 700; padding: 0 0.25rem; }
.account { display: flex; align-items: flex-start; gap: 0.75rem; padding: 0.5rem 0; }
.account input { width: 1.5rem; height: 1.5rem; margin-top: 1.1rem; flex: none; }
.account label { margin: 0.75rem 0 0; font-weight: 400; }
.account .name { display: block; font-weight: 600; }
.account .balance { color: var(--muted); }
.actions { display: flex; flex-wrap: wrap; gap: 1rem; }
form.cancel button { margin-top: 0.75rem; }
.state { display: inline-block; margin-left: 0.5rem; padding: 0 0.5rem; border-radius: 1rem; font-size: 0.875rem; font-weight: 700; border: 1px solid currentColor; }
.state.active { color: #0a6b2d; }
.state.ended { color: var(--muted); }
.state.rejected { color: var(--error); }
.notice { border-left: 4px solid #0a6b2d; padding-left: 0.75rem; font-weight: 600; }
.consents { list-style: none; padding: 0; }
.consent { border: 1px solid var(--line); border-radius: 0.25rem; padding: 0.75rem 1rem; margin: 0.75rem 0; }
a { color: var(--brand); }
a.button { display: inline-block; margin-top: 1.25rem; padding: 0.75rem 1.25rem; font-weight: 700; color: #fff; background: var(--brand); border: 2px solid var(--brand); border-radius: 0.25rem; text-decoration: none; }
a.button.secondary { color: var(--brand); background: #fff; }
table.history { width: 100%; border-collapse: collapse; }
table.history caption { text-align: left; }
table.history th, table.history td { text-align: left; padding: 0.375rem 0.5rem 0.375rem 0; border-bottom: 1px solid var(--line); vertical-align: top; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 0.25rem 1rem; }
header a { color: #fff; }
header .tagline { font-weight: 400; }
header nav { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; margin-left: auto; font-weight: 400; }
body.wide main, body.wide footer { max-width: 60rem; }
textarea { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.8rem; }
code, .mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.85rem; word-break: break-all; }
button.danger { background: var(--error); border-color: var(--error); }
.inline label { display: inline; font-weight: 400; margin-right: 1rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.9375rem; }
th, td { text-align: left; padding: 0.375rem 0.5rem 0.375rem 0; border-bottom: 1px solid var(--line); vertical-align: top; }
.secret { background: #fff8e1; border: 1px dashed #9a7b00; padding: 0.5rem 0.75rem; }
.revoked { color: var(--error); font-weight: 700; }
@media (max-width: 30rem) { main { margin: 0; border-radius: 0; } button { width: 100%; } .facts dt { min-width: 0; } }
`;
