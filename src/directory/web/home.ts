import type { FastifyInstance } from 'fastify';
import { html } from '../../shared/page-kit/index.ts';
import type { WebContext } from './context.ts';
import { csrfField } from './forms.ts';
import { page } from './pages.ts';
import { currentOrganisation } from './session.ts';

/** The directory's front page (create an organisation or sign in; banks; trust and revocation) and its terms. */
export function homeRoutes(scope: FastifyInstance, context: WebContext): void {
  const { service } = context;

  scope.get('/', async (request, reply) => {
    const session = await currentOrganisation(service, request);
    const aspsps = await service.aspsps();
    return page(
      reply,
      'Open Banking Directory',
      html` <p>
          The sandbox directory vouches for third-party providers (TPPs) and banks: it issues their transport,
          signing and encryption certificates, signs their software statement assertions (SSAs) and publishes
          their keys. ${context.sandbox ? 'In the sandbox anyone may onboard at once, without approval.' : ''}
        </p>
        ${
          session
            ? html`<p class="notice">
                You manage <a href="/directory/organisations/${session.id}">${session.name}</a>.
              </p>`
            : ''
        }
        <h2>Create an organisation</h2>
        <form method="post" action="/directory/organisations">
          ${csrfField(reply)}
          <label for="name">Legal name</label
          ><input type="text" id="name" name="name" required maxlength="140" />
          <label for="ncaId"
            >Regulator (FCA) registration number <small>(optional; the sandbox assigns one)</small></label
          >
          <input type="text" id="ncaId" name="ncaId" maxlength="32" pattern="[A-Za-z0-9]{1,32}" />
          <label for="contactName">Contact name</label
          ><input type="text" id="contactName" name="contactName" maxlength="140" />
          <label for="contactEmail">Contact email</label
          ><input type="email" id="contactEmail" name="contactEmail" maxlength="254" />
          <button type="submit">Create organisation</button>
        </form>
        <h2>Manage an existing organisation</h2>
        <form method="post" action="/directory/sign-in">
          ${csrfField(reply)}
          <label for="orgId">Organisation id</label
          ><input type="text" id="orgId" name="orgId" required maxlength="18" />
          <label for="key">Management key</label
          ><input type="text" id="key" name="key" required maxlength="100" autocomplete="off" />
          <button type="submit">Sign in</button>
        </form>
        <h2>Banks (ASPSPs)</h2>
        ${
          aspsps.length === 0
            ? html`<p>No bank is listed yet.</p>`
            : html`<table>
                <tr>
                  <th>Name</th>
                  <th>OpenID discovery</th>
                </tr>
                ${aspsps.map(
                  (aspsp) =>
                    html`<tr>
                      <td>${aspsp.name}</td>
                      <td class="mono">${aspsp.discoveryUrl}</td>
                    </tr>`,
                )}
              </table>`
        }
        <h2>Trust and revocation</h2>
        <ul>
          <li><a href="/directory/v1/ca">CA chain</a> (issuing CA, then root; PEM)</li>
          <li><a href="/directory/v1/jwks">Directory JWKS</a> (the keys that sign SSAs)</li>
          <li>
            <a href="/directory/v1/crl">Certificate revocation list</a> (DER); OCSP at
            <code>${service.addresses.issuer}/v1/ocsp</code>
          </li>
          <li><a href="/directory/tos">Terms of the sandbox registry</a></li>
          <li><a href="/directory/operator">Directory operator: participant status</a></li>
        </ul>`,
    );
  });

  scope.get('/tos', async (_request, reply) =>
    page(
      reply,
      'Terms of the sandbox registry',
      html` <p>
          This directory is a sandbox. Certificates, software statements and SSAs it issues are for testing
          and carry no regulatory standing: no national competent authority has approved the organisations
          listed here.
        </p>
        <ul>
          <li>Do not use sandbox certificates or keys with real customers' data or money.</li>
          <li>
            Keys the directory generates for you are kept by the directory; treat them as known to others.
          </li>
          <li>The operator may revoke certificates and remove organisations at any time.</li>
        </ul>`,
    ),
  );
}
