import type { FastifyInstance } from 'fastify';
import { field, fieldList, html, type Form } from '../../shared/page-kit/index.ts';
import { DirectoryError } from '../errors.ts';
import { idPatterns } from '../ids.ts';
import type { KeySource } from '../service.ts';
import {
  certificateProfiles,
  certificateTypes,
  parseInput,
  softwareInputSchema,
  type CertificateType,
} from '../validation.ts';
import type { WebContext } from './context.ts';
import { choice, csrfField, formOf, optional, requireSandbox, text } from './forms.ts';
import { certificateRow, page } from './pages.ts';
import { managed, managedSoftware } from './session.ts';

/** Create a software statement with its certificates (sandbox), its management page, and its public page. */
export function softwareRoutes(scope: FastifyInstance, context: WebContext): void {
  const { service } = context;

  scope.post<{ Params: { orgId: string } }>('/organisations/:orgId/software', async (request, reply) => {
    requireSandbox(context.sandbox);
    const organisation = await managed(service, request, request.params.orgId);
    const form = formOf(request);
    const input = parseInput(
      softwareInputSchema,
      {
        clientName: text(form, 'clientName') ?? '',
        ...optional(form, 'description'),
        ...optional(form, 'version'),
        roles: fieldList(form, 'roles'),
        redirectUris: (field(form, 'redirectUris') ?? '')
          .split(/\r?\n/)
          .map((line) => line.trim())
          .filter(Boolean),
        ...optional(form, 'clientUri'),
        ...optional(form, 'logoUri'),
        ...optional(form, 'policyUri'),
        ...optional(form, 'tosUri'),
        ...optional(form, 'mode'),
      },
      'the form',
    );
    const profile = choice(
      field(form, 'certificateProfile') ?? 'obie',
      certificateProfiles,
      'certificate profile',
    );
    const keys = keySources(form);
    const created = await service.createSoftware(organisation.id, input, profile, keys);
    return reply.redirect(`/directory/organisations/${organisation.id}/software/${created.software.id}`, 303);
  });

  scope.get<{ Params: { orgId: string; softwareId: string } }>(
    '/organisations/:orgId/software/:softwareId',
    async (request, reply) => {
      const { organisation, software } = await managedSoftware(service, request, request.params);
      const certificates = await service.certificatesOf(software.id);
      const base = `/directory/organisations/${organisation.id}/software/${software.id}`;
      return page(
        reply,
        software.clientName,
        html` <p>
            <a href="/directory/organisations/${organisation.id}">${organisation.name}</a> · software id
            <code>${software.id}</code>
          </p>
          <table>
            <tr>
              <th>Roles</th>
              <td>${software.roles.join(', ')}</td>
            </tr>
            <tr>
              <th>Redirect URIs</th>
              <td class="mono">${software.redirectUris.map((uri) => html`<div>${uri}</div>`)}</td>
            </tr>
            <tr>
              <th>Mode</th>
              <td>${software.mode}</td>
            </tr>
            <tr>
              <th>Certificate profile</th>
              <td>
                ${software.certificateProfile === 'eidas' ? 'eIDAS (QWAC / QSealC)' : 'Open Banking (OBWAC / OBSEAL)'}
              </td>
            </tr>
            <tr>
              <th>JWKS</th>
              <td class="mono">
                <a href="${service.addresses.softwareJwks(organisation.id, software.id)}"
                  >${service.addresses.softwareJwks(organisation.id, software.id)}</a
                >
              </td>
            </tr>
          </table>
          <p>
            <a href="${base}/bundle.tar.gz">Download the bundle</a> (certificates, CA chain, a fresh SSA,
            bundle.json; private keys only for keys the directory generated).
            <a href="${base}/ssa.jwt">Download a fresh SSA</a>.
          </p>
          <h2>Certificates</h2>
          <table>
            <tr>
              <th>Type</th>
              <th>Key id</th>
              <th>Serial</th>
              <th>Valid until</th>
              <th>Status</th>
              <th></th>
            </tr>
            ${certificates.map((certificate) => certificateRow(base, certificate, csrfField(reply)))}
          </table>
          <h2>New certificate</h2>
          <form method="post" action="${base}/certificates">
            ${csrfField(reply)}
            <label for="type">Type</label>
            <select id="type" name="type">
              ${certificateTypes.map((type) => html`<option value="${type}">${type}</option>`)}
            </select>
            <label for="csr"
              >CSR (PEM) <small>(leave empty to let the sandbox generate the key)</small></label
            >
            <textarea id="csr" name="csr" rows="6"></textarea>
            <button type="submit">Issue certificate</button>
          </form>`,
      );
    },
  );

  scope.get<{ Params: { softwareId: string } }>('/software/:softwareId', async (request, reply) => {
    const softwareId = request.params.softwareId;
    if (!idPatterns.software.test(softwareId)) throw DirectoryError.notFound('no such software statement');
    const software = await service.software(softwareId);
    const organisation = await service.organisation(software.orgId);
    return page(
      reply,
      software.clientName,
      html` <p>
          A software statement registered in the obkit ${context.sandbox ? 'sandbox ' : ''}directory by
          <strong>${organisation.name}</strong> (<code>${organisation.organizationIdentifier}</code>).
        </p>
        <table>
          <tr>
            <th>Software id</th>
            <td class="mono">${software.id}</td>
          </tr>
          <tr>
            <th>Description</th>
            <td>${software.description || '—'}</td>
          </tr>
          <tr>
            <th>Roles</th>
            <td>${software.roles.join(', ')}</td>
          </tr>
          <tr>
            <th>Status</th>
            <td>${software.status}</td>
          </tr>
        </table>
        <h2>Policies</h2>
        <ul>
          <li>
            Privacy policy:
            ${
              software.policyUri
                ? html`<a href="${software.policyUri}">${software.policyUri}</a>`
                : 'none published with the directory'
            }
          </li>
          <li>
            Terms of service:
            ${
              software.tosUri
                ? html`<a href="${software.tosUri}">${software.tosUri}</a>`
                : 'none published with the directory'
            }
          </li>
        </ul>
        <p>
          The <a href="/directory/tos">terms of the sandbox registry</a> apply to every software statement
          listed here.
        </p>`,
    );
  });
}

function keySources(form: Form): Partial<Record<CertificateType, KeySource>> {
  if ((field(form, 'keys') ?? 'generate') === 'generate') {
    return { transport: { generate: true }, signing: { generate: true }, encryption: { generate: true } };
  }
  const transport = field(form, 'csrTransport')?.trim();
  const signing = field(form, 'csrSigning')?.trim();
  const encryption = field(form, 'csrEncryption')?.trim();
  if (!transport || !signing)
    throw DirectoryError.badRequest('paste at least the transport and signing CSRs');
  return {
    transport: { csr: transport },
    signing: { csr: signing },
    ...(encryption ? { encryption: { csr: encryption } } : {}),
  };
}
