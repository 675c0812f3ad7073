import type { FastifyReply } from 'fastify';
import { html, layout, sendPage, type SafeHtml, type Site } from '../../shared/page-kit/index.ts';
import { participantStatuses } from '../../shared/participant-status.ts';
import { revocationReasons, type CertificateRow, type OrganisationRow } from '../service.ts';
import { obRoles } from '../validation.ts';
/**
 * The directory's page pieces (the route modules beside it have the routes): the layout of the page kit with the
 * directory's site, and the tables and forms its pages share. Every value is escaped by `html`.
 */

/** The directory's pages: a wide column for its tables. */
const site: Site = {
  name: 'obkit Directory',
  home: '/directory/',
  tagline: 'Open Banking sandbox',
  stylesheet: '/directory/assets/style.css',
  wide: true,
};

/** A directory page: the kit's layout with the title as its heading; the reply's status is kept. */
export function page(reply: FastifyReply, title: string, body: SafeHtml) {
  return sendPage(
    reply,
    reply.statusCode,
    layout(
      site,
      title,
      html`<h1>${title}</h1>
        ${body}`,
    ),
  );
}

export function statusRow(
  name: string,
  id: string,
  status: string,
  action: string,
  csrf: SafeHtml,
): SafeHtml {
  return html`<tr>
    <td>${name}</td>
    <td class="mono">${id}</td>
    <td class="${status === 'Active' ? '' : 'revoked'}">${status}</td>
    <td>
      <form method="post" action="${action}">
        ${csrf}
        <select name="status" aria-label="New status for ${id}">
          ${participantStatuses.map(
            (value) => html`<option value="${value}" ${value === status ? 'selected' : ''}>${value}</option>`,
          )}
        </select>
        <button type="submit">Set</button>
      </form>
    </td>
  </tr>`;
}

export function errorBlock(message: string): SafeHtml {
  return html`<p class="error">${message}</p>
    <p><a href="/directory/">Back to the directory</a></p>`;
}

export function organisationFacts(organisation: OrganisationRow): SafeHtml {
  return html`<table>
    <tr>
      <th>Organisation id</th>
      <td class="mono">${organisation.id}</td>
    </tr>
    <tr>
      <th>Organisation identifier</th>
      <td class="mono">${organisation.organizationIdentifier}</td>
    </tr>
    <tr>
      <th>Regulator</th>
      <td>${organisation.ncaName} ${organisation.ncaId}</td>
    </tr>
    <tr>
      <th>Status</th>
      <td>${organisation.status}</td>
    </tr>
  </table>`;
}

export function softwareForm(organisation: OrganisationRow, csrf: SafeHtml): SafeHtml {
  return html`<form method="post" action="/directory/organisations/${organisation.id}/software">
    ${csrf}
    <label for="clientName">Client name</label
    ><input type="text" id="clientName" name="clientName" required maxlength="140" />
    <label for="description">Description</label
    ><input type="text" id="description" name="description" maxlength="1000" />
    <label for="version">Version</label
    ><input type="text" id="version" name="version" value="1.0" maxlength="32" />
    <fieldset class="inline">
      <legend>Roles</legend>
      ${obRoles.map((role) => html`<input type="checkbox" id="role-${role}" name="roles" value="${role}" /><label for="role-${role}">${role}</label>`)}
    </fieldset>
    <label for="redirectUris">Redirect URIs (https, one per line)</label
    ><textarea id="redirectUris" name="redirectUris" rows="3" required></textarea>
    <label for="clientUri">Client URI (optional)</label><input type="url" id="clientUri" name="clientUri" />
    <label for="logoUri">Logo URI (optional)</label><input type="url" id="logoUri" name="logoUri" />
    <label for="policyUri">Policy URI (optional)</label><input type="url" id="policyUri" name="policyUri" />
    <label for="tosUri">Terms of service URI (optional)</label><input type="url" id="tosUri" name="tosUri" />
    <fieldset class="inline">
      <legend>Mode</legend>
      <input type="radio" id="mode-test" name="mode" value="Test" checked /><label for="mode-test"
        >Test</label
      >
      <input type="radio" id="mode-live" name="mode" value="Live" /><label for="mode-live">Live</label>
    </fieldset>
    <fieldset class="inline">
      <legend>Certificate profile</legend>
      <input type="radio" id="profile-obie" name="certificateProfile" value="obie" checked /><label
        for="profile-obie"
        >Open Banking (OBWAC / OBSEAL)</label
      >
      <input type="radio" id="profile-eidas" name="certificateProfile" value="eidas" /><label
        for="profile-eidas"
        >eIDAS (QWAC / QSealC with PSD2 roles)</label
      >
    </fieldset>
    <fieldset>
      <legend>Keys</legend>
      <div class="inline">
        <input type="radio" id="keys-generate" name="keys" value="generate" checked /><label
          for="keys-generate"
          >Generate them here (sandbox convenience: the bundle then holds the private keys)</label
        ><br />
        <input type="radio" id="keys-csr" name="keys" value="csr" /><label for="keys-csr"
          >Use my CSRs (my private keys stay with me)</label
        >
      </div>
      <label for="csrTransport">Transport CSR (PEM)</label
      ><textarea id="csrTransport" name="csrTransport" rows="4"></textarea>
      <label for="csrSigning">Signing CSR (PEM)</label
      ><textarea id="csrSigning" name="csrSigning" rows="4"></textarea>
      <label for="csrEncryption">Encryption CSR (PEM, optional)</label
      ><textarea id="csrEncryption" name="csrEncryption" rows="4"></textarea>
    </fieldset>
    <button type="submit">Create software statement and certificates</button>
  </form>`;
}

export function certificateRow(base: string, certificate: CertificateRow, csrf: SafeHtml): SafeHtml {
  const revoked = certificate.status === 'revoked';
  return html`<tr>
    <td>
      ${certificate.type}${certificate.sealedPrivateKey ? html` <small>(key generated here)</small>` : ''}
    </td>
    <td class="mono">
      <a href="${base}/certificates/${certificate.kid}/certificate.pem">${certificate.kid}</a>
    </td>
    <td class="mono">${certificate.serialNumber}</td>
    <td>${certificate.notAfter.toISOString().slice(0, 10)}</td>
    <td>
      ${
        revoked
          ? html`<span class="revoked">revoked</span> ${certificate.revokedAt?.toISOString() ?? ''}
              (${certificate.revocationReason ?? ''})`
          : certificate.listedUntil
            ? html`active, replaced; listed until ${certificate.listedUntil.toISOString()}`
            : 'active'
      }
    </td>
    <td>
      ${
        revoked
          ? ''
          : html`<form method="post" action="${base}/certificates/${certificate.kid}/revoke">
              ${csrf}
              <select name="reason" aria-label="Reason">
                ${revocationReasons.map((reason) => html`<option value="${reason}">${reason}</option>`)}
              </select>
              <button type="submit" class="danger">Revoke</button>
            </form>`
      }
    </td>
  </tr>`;
}
