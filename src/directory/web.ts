import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  appendSetCookie,
  csrfField as csrfInput,
  csrfToken,
  ERROR_TEXTS,
  field,
  fieldList,
  html,
  installPageKit,
  readCookie,
  type Form,
  type SafeHtml,
} from '../shared/page-kit/index.ts';
import { DirectoryError } from './errors.ts';
import { statusOf, type ApiContext } from './http-api.ts';
import { idPatterns } from './ids.ts';
import {
  revocationReasons,
  type DirectoryService,
  type KeySource,
  type OrganisationRow,
  type RevocationReason,
  type SoftwareRow,
} from './service.ts';
import { tarGz, type TarEntry } from './tar.ts';
import { certificateRow, errorBlock, organisationFacts, page, softwareForm, statusRow } from './web-pages.ts';
import {
  certificateProfiles,
  certificateTypes,
  organisationInputSchema,
  parseInput,
  softwareInputSchema,
  type CertificateType,
} from './validation.ts';

/**
 * The directory's web pages (browser listener, under /directory): create an organisation and its
 * software, upload CSRs or let the sandbox generate keys, download the bundle, see and revoke
 * certificates. Server-rendered; every value is escaped; no script at all; every form carries the platform's
 * CSRF token (`csrfField`), and every page the platform's security headers (src/shared/page-security).
 *
 * A browser manages one organisation at a time: creating it sets a cookie holding the organisation id
 * and a management key (shown once, stored only as a SHA-256 hash), which also signs in elsewhere.
 */
const cookieName = 'obkit_directory';
/** The operator's session: a value derived from the operator key (operator-key.ts). */
const operatorCookieName = 'obkit_directory_operator';
const formBodyLimit = 128 * 1024;

/** File names of the bundle, the same as `obkit tpp onboard` writes, so `--bundle` reads either. */
const bundleFiles = {
  summary: 'bundle.json',
  transport: { key: 'transport.key.pem', certificate: 'transport.cert.pem' },
  signing: { key: 'signing.key.pem', certificate: 'signing.cert.pem' },
  encryption: { key: 'encryption.key.pem', certificate: 'encryption.cert.pem' },
  caChain: 'ca-chain.pem',
  ssa: 'ssa.jwt',
} as const;

interface WebContext extends ApiContext {
  sandbox: boolean;
  /** The HMAC secret of the forms' CSRF tokens (the store setting PAGE_SECURITY_SECRET_SETTING). */
  pageSecret: string;
}

export async function webPages(scope: FastifyInstance, context: WebContext): Promise<void> {
  const { service } = context;

  installPageKit(scope, {
    name: 'directory pages',
    secret: context.pageSecret,
    formBodyLimit,
    stylesheet: { path: '/assets/style.css' },
    statusOf: (error) => (error instanceof DirectoryError ? error.status : undefined),
    problem: (_request, reply, problem) => {
      if (problem.kind === 'unavailable' || problem.kind === 'failure') {
        const text = problem.kind === 'unavailable' ? ERROR_TEXTS.unavailable : ERROR_TEXTS.failure;
        return page(reply, text.title, errorBlock(text.message));
      }
      const message =
        problem.kind === 'form-expired'
          ? 'this form has expired or was not sent from the directory pages; open the page again'
          : problem.error instanceof Error
            ? problem.error.message
            : 'the request could not be read';
      return page(reply, 'Something is wrong', errorBlock(message));
    },
  });

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

  scope.post('/organisations', async (request, reply) => {
    requireSandbox(context.sandbox);
    const form = formOf(request);
    const contactName = text(form, 'contactName');
    const contactEmail = text(form, 'contactEmail');
    const input = parseInput(
      organisationInputSchema,
      {
        name: text(form, 'name') ?? '',
        ...(text(form, 'ncaId') ? { ncaId: text(form, 'ncaId') } : {}),
        contacts:
          contactName || contactEmail
            ? [{ name: contactName ?? '', email: contactEmail ?? '', type: 'business' }]
            : [],
      },
      'the form',
    );
    const secret = randomBytes(24).toString('base64url');
    const organisation = await service.createOrganisation(input, hashSecret(secret));
    setSession(reply, organisation.id, secret);
    return page(
      reply.status(201),
      `Organisation ${organisation.name} created`,
      html` <p>
          Organisation id <code>${organisation.id}</code>, organisation identifier
          <code>${organisation.organizationIdentifier}</code>.
        </p>
        <div class="secret">
          <p>
            <strong>Management key</strong> (shown once; keep it to manage this organisation from another
            browser): <code>${secret}</code>
          </p>
        </div>
        <p><a href="/directory/organisations/${organisation.id}">Continue: add a software statement</a></p>`,
    );
  });

  scope.post('/sign-in', async (request, reply) => {
    const form = formOf(request);
    const orgId = text(form, 'orgId') ?? '';
    const secret = text(form, 'key') ?? '';
    const organisation = idPatterns.organisation.test(orgId)
      ? await service.organisation(orgId).catch(() => undefined)
      : undefined;
    if (!organisation || !secretMatches(organisation, secret)) {
      throw DirectoryError.forbidden('that organisation id and management key do not match');
    }
    setSession(reply, organisation.id, secret);
    return reply.redirect(`/directory/organisations/${organisation.id}`, 303);
  });

  scope.post('/sign-out', async (_request, reply) => {
    appendSetCookie(
      reply.raw,
      `${cookieName}=; Path=/directory; Max-Age=0; HttpOnly; Secure; SameSite=Strict`,
    );
    return reply.redirect('/directory/', 303);
  });

  // ---- the operator: participant status -------------------------------------------------------

  const isOperator = (request: FastifyRequest) => {
    const presented = readCookie(request.headers.cookie, operatorCookieName);
    return presented !== undefined && context.operator.matches(presented, 'session');
  };
  const requireOperator = (request: FastifyRequest) => {
    if (!isOperator(request)) throw DirectoryError.forbidden('sign in as the directory operator first');
  };

  scope.get('/operator', async (request, reply) => {
    if (!isOperator(request)) {
      return page(
        reply,
        'Directory operator',
        html`<p>
            The operator suspends, revokes and reinstates participants. The operator key is in
            <code>directory/operator.key</code> in the platform's data directory.
          </p>
          <form method="post" action="/directory/operator/sign-in">
            ${csrfField(reply)}
            <label for="operatorKey">Operator key</label
            ><input type="password" id="operatorKey" name="key" required autocomplete="off" />
            <button type="submit">Sign in</button>
          </form>`,
      );
    }
    const organisations = await service.organisations();
    const rows = await Promise.all(
      organisations.map(async (organisation) => ({
        organisation,
        software: await service.softwareOf(organisation.id),
      })),
    );
    return page(
      reply,
      'Participant status',
      html`<p>
          A participant that is not Active gets no registration, no token and no API answer from the banks
          that read this directory, from the next request on; reinstated, it is served again.
        </p>
        <table>
          <tr>
            <th>Organisation / software</th>
            <th>Id</th>
            <th>Status</th>
            <th>Change</th>
          </tr>
          ${rows.flatMap(({ organisation, software }) => [
            statusRow(
              organisation.name,
              organisation.id,
              organisation.status,
              `/directory/operator/organisations/${organisation.id}/status`,
              csrfField(reply),
            ),
            ...software.map((item) =>
              statusRow(
                `· ${item.clientName}`,
                item.id,
                item.status,
                `/directory/operator/software/${item.id}/status`,
                csrfField(reply),
              ),
            ),
          ])}
        </table>
        <form method="post" action="/directory/operator/sign-out">
          ${csrfField(reply)}<button type="submit">Sign out</button>
        </form>`,
    );
  });

  scope.post('/operator/sign-in', async (request, reply) => {
    const key = text(formOf(request), 'key') ?? '';
    if (!context.operator.matches(key)) throw DirectoryError.forbidden('that is not the operator key');
    appendSetCookie(
      reply.raw,
      `${operatorCookieName}=${context.operator.sessionToken}; Path=/directory; Max-Age=${8 * 3600}; HttpOnly; Secure; SameSite=Strict`,
    );
    return reply.redirect('/directory/operator', 303);
  });

  scope.post('/operator/sign-out', async (_request, reply) => {
    appendSetCookie(
      reply.raw,
      `${operatorCookieName}=; Path=/directory; Max-Age=0; HttpOnly; Secure; SameSite=Strict`,
    );
    return reply.redirect('/directory/', 303);
  });

  scope.post<{ Params: { orgId: string } }>(
    '/operator/organisations/:orgId/status',
    async (request, reply) => {
      requireOperator(request);
      if (!idPatterns.organisation.test(request.params.orgId))
        throw DirectoryError.notFound('no such organisation');
      const status = statusOf({ status: field(formOf(request), 'status') });
      await service.setOrganisationStatus(request.params.orgId, status);
      request.log.info({ orgId: request.params.orgId, status }, 'directory organisation status set');
      return reply.redirect('/directory/operator', 303);
    },
  );

  scope.post<{ Params: { softwareId: string } }>(
    '/operator/software/:softwareId/status',
    async (request, reply) => {
      requireOperator(request);
      if (!idPatterns.software.test(request.params.softwareId))
        throw DirectoryError.notFound('no such software statement');
      const status = statusOf({ status: field(formOf(request), 'status') });
      await service.setSoftwareStatus(request.params.softwareId, status);
      request.log.info({ softwareId: request.params.softwareId, status }, 'directory software status set');
      return reply.redirect('/directory/operator', 303);
    },
  );

  scope.get<{ Params: { orgId: string } }>('/organisations/:orgId', async (request, reply) => {
    const organisation = await managed(service, request, request.params.orgId);
    const software = await service.softwareOf(organisation.id);
    return page(
      reply,
      organisation.name,
      html` ${organisationFacts(organisation)}
        <h2>Software statements</h2>
        ${
          software.length === 0
            ? html`<p>None yet.</p>`
            : html`<table>
                <tr>
                  <th>Client name</th>
                  <th>Software id</th>
                  <th>Roles</th>
                  <th>Mode</th>
                </tr>
                ${software.map(
                  (item) =>
                    html`<tr>
                      <td>
                        <a href="/directory/organisations/${organisation.id}/software/${item.id}"
                          >${item.clientName}</a
                        >
                      </td>
                      <td class="mono">${item.id}</td>
                      <td>${item.roles.join(', ')}</td>
                      <td>${item.mode}</td>
                    </tr>`,
                )}
              </table>`
        }
        <h2>New software statement</h2>
        ${softwareForm(organisation, csrfField(reply))}
        <form method="post" action="/directory/sign-out">
          ${csrfField(reply)}<button type="submit">Sign out</button>
        </form>`,
    );
  });

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

  scope.post<{ Params: { orgId: string; softwareId: string } }>(
    '/organisations/:orgId/software/:softwareId/certificates',
    async (request, reply) => {
      const { organisation, software } = await managedSoftware(service, request, request.params);
      const form = formOf(request);
      const type = choice(field(form, 'type') ?? '', certificateTypes, 'certificate type');
      const csr = field(form, 'csr')?.trim();
      if (!csr) requireSandbox(context.sandbox, 'generating keys in the directory');
      await service.issueCertificate(software.id, type, csr ? { csr } : { generate: true });
      return reply.redirect(`/directory/organisations/${organisation.id}/software/${software.id}`, 303);
    },
  );

  scope.post<{ Params: { orgId: string; softwareId: string; kid: string } }>(
    '/organisations/:orgId/software/:softwareId/certificates/:kid/revoke',
    async (request, reply) => {
      const { organisation, software } = await managedSoftware(service, request, request.params);
      const reason = choice(
        field(formOf(request), 'reason') ?? 'unspecified',
        revocationReasons,
        'reason',
      ) as RevocationReason;
      await service.revoke(software.id, checkKid(request.params.kid), reason);
      return reply.redirect(`/directory/organisations/${organisation.id}/software/${software.id}`, 303);
    },
  );

  scope.get<{ Params: { orgId: string; softwareId: string; kid: string } }>(
    '/organisations/:orgId/software/:softwareId/certificates/:kid/certificate.pem',
    async (request, reply) => {
      const { software } = await managedSoftware(service, request, request.params);
      const certificate = await service.certificate(software.id, checkKid(request.params.kid));
      return download(
        reply,
        'application/x-pem-file',
        `${certificate.type}-${certificate.kid}.cert.pem`,
        certificate.certificatePem,
      );
    },
  );

  scope.get<{ Params: { orgId: string; softwareId: string } }>(
    '/organisations/:orgId/software/:softwareId/ssa.jwt',
    async (request, reply) => {
      const { software } = await managedSoftware(service, request, request.params);
      return download(
        reply,
        'application/jwt',
        `${software.id}.ssa.jwt`,
        `${await service.issueSsa(software.id)}\n`,
      );
    },
  );

  scope.get<{ Params: { orgId: string; softwareId: string } }>(
    '/organisations/:orgId/software/:softwareId/bundle.tar.gz',
    async (request, reply) => {
      const { organisation, software } = await managedSoftware(service, request, request.params);
      const archive = await bundle(service, context.caChainPem, organisation, software);
      return download(reply, 'application/gzip', `obkit-bundle-${software.id}.tar.gz`, archive);
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

async function bundle(
  service: DirectoryService,
  caChainPem: string,
  organisation: OrganisationRow,
  software: SoftwareRow,
): Promise<Buffer> {
  const certificates = await service.certificatesOf(software.id);
  const folder = `obkit-bundle-${software.id}`;
  const entries: TarEntry[] = [];
  const summaryCertificates: Record<
    string,
    { kid: string; serialNumber: string; certificateFile: string; keyFile: string }
  > = {};
  for (const type of certificateTypes) {
    // The newest active certificate of each type (newest first from certificatesOf).
    const certificate = certificates.find((item) => item.type === type && item.status === 'active');
    if (!certificate) continue;
    const names = bundleFiles[type];
    entries.push({ name: `${folder}/${names.certificate}`, content: certificate.certificatePem });
    const privateKey = service.privateKeyOf(certificate);
    if (privateKey) entries.push({ name: `${folder}/${names.key}`, content: privateKey, mode: 0o600 });
    summaryCertificates[type] = {
      kid: certificate.kid,
      serialNumber: certificate.serialNumber,
      certificateFile: names.certificate,
      keyFile: names.key,
    };
  }
  if (!summaryCertificates.transport || !summaryCertificates.signing) {
    throw new DirectoryError(
      409,
      'conflict',
      'the software has no active transport and signing certificates to bundle',
    );
  }
  const ssa = await service.issueSsa(software.id);
  const directoryUrl = new URL(service.addresses.issuer).origin;
  const summary = {
    version: 1,
    createdAt: service.now().toISOString(),
    directory: { url: directoryUrl, jwksUri: `${service.addresses.issuer}/v1/jwks` },
    organisation: {
      id: organisation.id,
      name: organisation.name,
      organizationIdentifier: organisation.organizationIdentifier,
    },
    software: {
      id: software.id,
      clientName: software.clientName,
      roles: software.roles,
      redirectUris: software.redirectUris,
      jwksUri: service.addresses.softwareJwks(organisation.id, software.id),
    },
    certificates: summaryCertificates,
    registrations: {},
    consents: [],
  };
  entries.push(
    { name: `${folder}/${bundleFiles.caChain}`, content: caChainPem },
    { name: `${folder}/${bundleFiles.ssa}`, content: `${ssa}\n` },
    { name: `${folder}/${bundleFiles.summary}`, content: `${JSON.stringify(summary, null, 2)}\n` },
  );
  return tarGz(entries, service.now());
}

function download(reply: FastifyReply, type: string, fileName: string, content: string | Buffer) {
  return reply
    .header('content-type', type)
    .header('content-disposition', `attachment; filename="${fileName}"`)
    .send(content);
}

// ---- forms and sessions ---------------------------------------------------------------------------

/** The hidden CSRF field every form of these pages carries (src/shared/page-security). */
function csrfField(reply: FastifyReply): SafeHtml {
  return csrfInput(csrfToken(reply));
}

function formOf(request: FastifyRequest): Form {
  const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw DirectoryError.badRequest('send the form as application/x-www-form-urlencoded');
  }
  return request.body as Form;
}

function text(form: Form, name: string): string | undefined {
  const value = field(form, name)?.trim();
  return value ? value : undefined;
}

function optional(form: Form, name: string): Record<string, string> {
  const value = text(form, name);
  return value === undefined ? {} : { [name]: value };
}

function choice<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw DirectoryError.badRequest(`${what} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** Onboarding without approval, and keys made by the directory, exist only in the sandbox. */
function requireSandbox(sandbox: boolean, what = 'onboarding without approval'): void {
  if (!sandbox) throw DirectoryError.forbidden(`${what} is only available in the sandbox`);
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

function checkKid(kid: string): string {
  if (!idPatterns.kid.test(kid)) throw DirectoryError.notFound('no such key');
  return kid;
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function secretMatches(organisation: OrganisationRow, secret: string): boolean {
  if (!organisation.managementSecretHash || secret === '') return false;
  const expected = Buffer.from(organisation.managementSecretHash, 'hex');
  const actual = Buffer.from(hashSecret(secret), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function setSession(reply: FastifyReply, orgId: string, secret: string): void {
  appendSetCookie(
    reply.raw,
    `${cookieName}=${orgId}.${secret}; Path=/directory; Max-Age=${8 * 3600}; HttpOnly; Secure; SameSite=Strict`,
  );
}

function sessionCookie(request: FastifyRequest): { orgId: string; secret: string } | undefined {
  const [orgId, secret] = (readCookie(request.headers.cookie, cookieName) ?? '').split('.');
  return orgId && secret ? { orgId, secret } : undefined;
}

async function currentOrganisation(
  service: DirectoryService,
  request: FastifyRequest,
): Promise<OrganisationRow | undefined> {
  const session = sessionCookie(request);
  if (!session || !idPatterns.organisation.test(session.orgId)) return undefined;
  const organisation = await service.organisation(session.orgId).catch(() => undefined);
  return organisation && secretMatches(organisation, session.secret) ? organisation : undefined;
}

async function managed(
  service: DirectoryService,
  request: FastifyRequest,
  orgId: string,
): Promise<OrganisationRow> {
  const organisation = await currentOrganisation(service, request);
  if (!organisation || organisation.id !== orgId) {
    throw DirectoryError.forbidden("sign in with this organisation's id and management key to manage it");
  }
  return organisation;
}

async function managedSoftware(
  service: DirectoryService,
  request: FastifyRequest,
  params: { orgId: string; softwareId: string },
): Promise<{ organisation: OrganisationRow; software: SoftwareRow }> {
  const organisation = await managed(service, request, params.orgId);
  if (!idPatterns.software.test(params.softwareId))
    throw DirectoryError.notFound('no such software statement');
  const software = await service.software(params.softwareId);
  if (software.orgId !== organisation.id)
    throw DirectoryError.notFound('no such software statement in this organisation');
  return { organisation, software };
}
