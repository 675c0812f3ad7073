import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  isParticipantStatus,
  participantStatuses,
  type ParticipantStatus,
} from '../shared/participant-status.ts';
import { certificateVerdictOf, clientCertificateOf } from '../shared/client-certificate.ts';
import { parseParticipantCertificate } from '../pki/index.ts';
import { DirectoryError, errorBody } from './errors.ts';
import { idPatterns } from './ids.ts';
import { logoSvg } from './logo.ts';
import type { OperatorKey } from './operator-key.ts';
import type { RevocationPublisher } from './revocation.ts';
import {
  certificateView,
  revocationReasons,
  type CertificateRow,
  type DirectoryService,
  type IssuedCertificateView,
  type OnboardingResult,
  type OrganisationRow,
  type RevocationReason,
  type SoftwareRow,
} from './service.ts';
import {
  certificateRequestSchema,
  onboardingInputSchema,
  aspspInputSchema,
  parseInput,
  type CertificateType,
} from './validation.ts';

export const apiPrefix = '/directory/v1';
/** The MLA status API's path below the directory's base URL (specs/ob-mla-status/v2.1). */
export const mlaStatusPath = '/v2.1/organisation/mlastatus';
/** Three CSRs of at most 16 KiB each and the metadata fit well under this. */
export const onboardingBodyLimit = 64 * 1024;
const ocspBodyLimit = 16 * 1024;

export interface ApiContext {
  service: DirectoryService;
  operator: OperatorKey;
  revocation: RevocationPublisher;
  /** Issuing CA then root, PEM. */
  caChainPem: string;
  issuingCaDer: Uint8Array;
}

/** The scope's error handler: our refusals and fastify's 4xx become the directory error body; the rest goes up. */
export function directoryErrorHandler(
  error: FastifyError | DirectoryError,
  _request: FastifyRequest,
  reply: FastifyReply,
) {
  if (error instanceof DirectoryError) return reply.status(error.status).send(errorBody(error));
  const status = (error as FastifyError).statusCode;
  if (status === 413) {
    return reply
      .status(413)
      .send(
        errorBody(
          new DirectoryError(
            413,
            'request_too_large',
            `the request body is larger than allowed: ${error.message}`,
          ),
        ),
      );
  }
  if (status === 415) {
    return reply
      .status(415)
      .send(errorBody(new DirectoryError(415, 'unsupported_media_type', error.message)));
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return reply.status(status).send(errorBody(new DirectoryError(status, 'invalid_request', error.message)));
  }
  // Not ours: the surface's handler logs it and answers without leaking details.
  throw error;
}

function onboardingAnswer(service: DirectoryService, result: OnboardingResult, caChainPem: string) {
  const { organisation, software } = result;
  const certificates: Partial<
    Record<
      CertificateType,
      { kid: string; pem: string; serialNumber: string; thumbprintS256: string; notAfter: string }
    >
  > = {};
  for (const [type, view] of Object.entries(result.certificates) as [
    CertificateType,
    IssuedCertificateView,
  ][]) {
    certificates[type] = {
      kid: view.kid,
      pem: view.pem,
      serialNumber: view.serialNumber,
      thumbprintS256: view.thumbprintS256,
      notAfter: view.notAfter,
    };
  }
  return {
    organisation: {
      id: organisation.id,
      name: organisation.name,
      organizationIdentifier: organisation.organizationIdentifier,
      status: organisation.status,
    },
    software: softwareView(software),
    certificates,
    caChainPem,
    ssa: result.ssa,
    jwksUris: {
      software: service.addresses.softwareJwks(organisation.id, software.id),
      organisation: service.addresses.organisationJwks(organisation.id),
      directory: `${service.addresses.issuer}/v1/jwks`,
    },
  };
}

export function softwareView(software: SoftwareRow) {
  return {
    id: software.id,
    orgId: software.orgId,
    clientName: software.clientName,
    description: software.description,
    version: software.version,
    roles: software.roles,
    redirectUris: software.redirectUris,
    clientUri: software.clientUri,
    logoUri: software.logoUri,
    policyUri: software.policyUri,
    tosUri: software.tosUri,
    mode: software.mode,
    certificateProfile: software.certificateProfile,
    status: software.status,
    createdAt: software.createdAt.toISOString(),
  };
}

function checkId(value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value))
    throw DirectoryError.notFound(`${what} ${JSON.stringify(value.slice(0, 64))} does not exist`);
  return value;
}

/** Routes without a client certificate: onboarding (sandbox), JWKS, CA, CRL, OCSP, ASPSPs. */
export async function publicApi(
  scope: FastifyInstance,
  context: ApiContext & { sandbox: boolean },
): Promise<void> {
  const { service, revocation } = context;
  scope.setErrorHandler(directoryErrorHandler);
  scope.addContentTypeParser(
    ['application/ocsp-request'],
    { parseAs: 'buffer', bodyLimit: ocspBodyLimit },
    (_request, body, done) => done(null, body),
  );

  scope.post('/onboard', { bodyLimit: onboardingBodyLimit }, async (request, reply) => {
    if (!context.sandbox) {
      throw DirectoryError.forbidden('onboarding without approval is only open in the sandbox');
    }
    const input = parseInput(onboardingInputSchema, request.body);
    const result = await service.onboard(input, {
      transport: { csr: input.csrs.transport },
      signing: { csr: input.csrs.signing },
      ...(input.csrs.encryption ? { encryption: { csr: input.csrs.encryption } } : {}),
    });
    request.log.info(
      { orgId: result.organisation.id, softwareId: result.software.id },
      'directory onboarding',
    );
    return reply.status(201).send(onboardingAnswer(service, result, context.caChainPem));
  });

  scope.get('/jwks', async (_request, reply) => jwksReply(reply, await service.signingKeys.jwks()));

  scope.get<{ Params: { orgId: string } }>('/organisations/:orgId/jwks', async (request, reply) => {
    const orgId = checkId(request.params.orgId, idPatterns.organisation, 'organisation');
    return jwksReply(reply, await service.jwks({ orgId }, 'active'));
  });
  scope.get<{ Params: { orgId: string } }>('/organisations/:orgId/jwks/revoked', async (request, reply) => {
    const orgId = checkId(request.params.orgId, idPatterns.organisation, 'organisation');
    return jwksReply(reply, await service.jwks({ orgId }, 'revoked'));
  });
  scope.get<{ Params: { orgId: string; softwareId: string } }>(
    '/organisations/:orgId/software/:softwareId/jwks',
    async (request, reply) => {
      const orgId = checkId(request.params.orgId, idPatterns.organisation, 'organisation');
      const softwareId = checkId(request.params.softwareId, idPatterns.software, 'software');
      return jwksReply(reply, await service.jwks({ orgId, softwareId }, 'active'));
    },
  );
  scope.get<{ Params: { orgId: string; softwareId: string } }>(
    '/organisations/:orgId/software/:softwareId/jwks/revoked',
    async (request, reply) => {
      const orgId = checkId(request.params.orgId, idPatterns.organisation, 'organisation');
      const softwareId = checkId(request.params.softwareId, idPatterns.software, 'software');
      return jwksReply(reply, await service.jwks({ orgId, softwareId }, 'revoked'));
    },
  );

  scope.get<{ Params: { softwareId: string } }>('/software/:softwareId/logo.svg', async (request, reply) => {
    const software = await service.software(
      checkId(request.params.softwareId, idPatterns.software, 'software'),
    );
    return reply
      .header('content-type', 'image/svg+xml')
      .header('cache-control', 'public, max-age=3600')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
      .send(logoSvg(software.clientName));
  });

  scope.get('/ca', async (_request, reply) =>
    reply.header('content-type', 'application/x-pem-file').send(context.caChainPem),
  );
  scope.get('/ca/issuing.cer', async (_request, reply) =>
    reply.header('content-type', 'application/pkix-cert').send(Buffer.from(context.issuingCaDer)),
  );
  scope.get('/crl', async (_request, reply) =>
    reply
      .header('content-type', 'application/pkix-crl')
      .header('cache-control', 'public, max-age=60')
      .send(Buffer.from(await revocation.crl())),
  );
  scope.post('/ocsp', { config: { throttle: 'ocsp' } }, async (request, reply) => {
    if (!Buffer.isBuffer(request.body)) {
      throw new DirectoryError(
        415,
        'unsupported_media_type',
        'send the OCSP request as application/ocsp-request',
      );
    }
    return ocspReply(reply, await revocation.ocsp(new Uint8Array(request.body)));
  });
  // RFC 6960 Appendix A.1: GET {url}/{url-encoding of base-64 encoding of the DER OCSPRequest}.
  scope.get<{ Params: { '*': string } }>(
    '/ocsp/*',
    { config: { throttle: 'ocsp' } },
    async (request, reply) => {
      let text: string;
      try {
        text = decodeURIComponent(request.params['*']);
      } catch {
        throw DirectoryError.badRequest('the OCSP GET path is not URL-encoded base64');
      }
      if (text.length > ocspBodyLimit * 2 || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) {
        throw DirectoryError.badRequest('the OCSP GET path is not URL-encoded base64');
      }
      return ocspReply(reply, await revocation.ocsp(new Uint8Array(Buffer.from(text, 'base64'))));
    },
  );

  scope.get('/aspsps', async () => ({
    aspsps: (await service.aspsps()).map((aspsp) => ({
      id: aspsp.id,
      name: aspsp.name,
      discoveryUrl: aspsp.discoveryUrl,
      // Where the bank's message-signing keys are: it signs as its organisation (iss = org id).
      ...(aspsp.orgId
        ? { orgId: aspsp.orgId, signingJwksUri: service.addresses.organisationJwks(aspsp.orgId) }
        : {}),
    })),
  }));
}

function jwksReply(reply: FastifyReply, jwks: object) {
  return reply
    .header('content-type', 'application/jwk-set+json')
    .header('cache-control', 'public, max-age=60')
    .send(JSON.stringify(jwks));
}

function ocspReply(reply: FastifyReply, der: Uint8Array) {
  return reply
    .header('content-type', 'application/ocsp-response')
    .header('cache-control', 'no-cache')
    .send(Buffer.from(der));
}

declare module 'fastify' {
  interface FastifyRequest {
    directoryCaller?: CertificateRow;
  }
}

/**
 * Routes for participants, authenticated by the transport certificate the directory issued them
 * (looked up by its SHA-256 thumbprint, and its subject must name the same org and software).
 * A caller may touch only software of its own organisation.
 */
export async function participantApi(scope: FastifyInstance, context: ApiContext): Promise<void> {
  const { service } = context;
  scope.setErrorHandler(directoryErrorHandler);
  // We answer a missing certificate ourselves, in the directory's error format.
  scope.addHook('onRoute', (route) => {
    route.config = { ...route.config, clientCertificate: 'optional' };
  });
  scope.addHook('preHandler', async (request) => {
    request.directoryCaller = await authenticate(service, request);
  });

  const owned = async (request: FastifyRequest<{ Params: { softwareId: string } }>): Promise<SoftwareRow> => {
    const softwareId = checkId(request.params.softwareId, idPatterns.software, 'software');
    const software = await service.software(softwareId);
    const caller = request.directoryCaller!;
    if (software.orgId !== caller.orgId) {
      throw DirectoryError.forbidden(
        `software ${softwareId} belongs to another organisation than ${caller.orgId}, whose certificate you presented`,
      );
    }
    return software;
  };

  scope.get<{ Params: { softwareId: string } }>('/software/:softwareId', async (request) => {
    const software = await owned(request);
    const organisation = await service.organisation(software.orgId);
    const certificates = await service.certificatesOf(software.id);
    return {
      organisation: {
        id: organisation.id,
        name: organisation.name,
        organizationIdentifier: organisation.organizationIdentifier,
        status: organisation.status,
      },
      software: softwareView(software),
      certificates: certificates.map(certificateView),
      jwksUris: {
        software: service.addresses.softwareJwks(organisation.id, software.id),
        softwareRevoked: service.addresses.softwareRevokedJwks(organisation.id, software.id),
        organisation: service.addresses.organisationJwks(organisation.id),
        directory: `${service.addresses.issuer}/v1/jwks`,
      },
    };
  });

  scope.post<{ Params: { softwareId: string } }>('/software/:softwareId/ssa', async (request, reply) => {
    const software = await owned(request);
    return reply.status(201).send({ ssa: await service.issueSsa(software.id) });
  });

  scope.post<{ Params: { softwareId: string } }>(
    '/software/:softwareId/certificates',
    { bodyLimit: 32 * 1024 },
    async (request, reply) => {
      const software = await owned(request);
      const input = parseInput(certificateRequestSchema, request.body);
      const issued = await service.issueCertificate(software.id, input.type, { csr: input.csr });
      return reply.status(201).send({
        kid: issued.kid,
        type: issued.type,
        pem: issued.pem,
        serialNumber: issued.serialNumber,
        thumbprintS256: issued.thumbprintS256,
        notAfter: issued.notAfter,
        caChainPem: context.caChainPem,
      });
    },
  );

  scope.delete<{ Params: { softwareId: string; kid: string }; Querystring: { reason?: string } }>(
    '/software/:softwareId/certificates/:kid',
    async (request) => {
      const software = await owned(request);
      const kid = checkId(request.params.kid, idPatterns.kid, 'key');
      const reason = revocationReasonOf(request.query.reason);
      const revoked = await service.revoke(software.id, kid, reason);
      request.log.info({ softwareId: software.id, kid, reason }, 'directory certificate revoked');
      return certificateView(revoked);
    },
  );

  // A bank's software statement (role ASPSP) lists the bank so that TPPs can find its discovery URL.
  scope.put<{ Params: { softwareId: string } }>('/software/:softwareId/aspsp', async (request) => {
    const software = await owned(request);
    if (!software.roles.includes('ASPSP')) {
      throw DirectoryError.forbidden(`software ${software.id} does not hold the ASPSP role`);
    }
    const input = parseInput(aspspInputSchema, request.body);
    const aspsp = await service.registerAspsp({ ...input, orgId: software.orgId });
    return { id: aspsp.id, name: aspsp.name, discoveryUrl: aspsp.discoveryUrl, orgId: aspsp.orgId };
  });

  scope.get<{ Params: { softwareId: string; file: string } }>(
    '/software/:softwareId/keys/:file',
    async (request, reply) => {
      const software = await owned(request);
      const match = /^(.+)\.(pem|jwk)$/.exec(request.params.file);
      if (!match) throw DirectoryError.notFound('ask for keys/<kid>.pem or keys/<kid>.jwk');
      const kid = checkId(match[1]!, idPatterns.kid, 'key');
      const certificate = await service.certificate(software.id, kid);
      if (match[2] === 'pem') {
        return reply.header('content-type', 'application/x-pem-file').send(certificate.certificatePem);
      }
      return reply
        .header('content-type', 'application/jwk+json')
        .send(JSON.stringify(service.jwkOf(certificate)));
    },
  );
}

function revocationReasonOf(value: string | undefined): RevocationReason {
  if (value === undefined || value === '') return 'unspecified';
  if (!(revocationReasons as readonly string[]).includes(value)) {
    throw DirectoryError.badRequest(`reason must be one of ${revocationReasons.join(', ')}`);
  }
  return value as RevocationReason;
}

export async function authenticate(
  service: DirectoryService,
  request: FastifyRequest,
): Promise<CertificateRow> {
  const presented = clientCertificateOf(request.raw);
  const refuse = (description: string) => new DirectoryError(401, 'invalid_client_certificate', description);
  if (!presented) {
    const verdict = certificateVerdictOf(request.raw);
    const why = verdict && !verdict.trusted && verdict.reason !== 'missing' ? `${verdict.detail}; ` : '';
    throw refuse(
      `${why}present the transport certificate the directory issued you (mutual TLS); none trusted was presented`,
    );
  }
  const certificate = await service.certificateByThumbprint(presented.thumbprintS256);
  if (!certificate)
    throw refuse('the client certificate was not issued by this directory to a software statement');
  if (certificate.type !== 'transport') {
    throw refuse(
      `the client certificate is the ${certificate.type} certificate ${certificate.kid}; use a transport certificate`,
    );
  }
  if (certificate.status !== 'active')
    throw refuse(`the transport certificate ${certificate.kid} has been revoked`);
  const info = parseParticipantCertificate(presented.pem);
  if (info.orgId !== certificate.orgId || info.softwareId !== certificate.softwareId) {
    throw refuse(
      'the client certificate subject does not name the organisation and software it was issued to',
    );
  }
  return certificate;
}

/** The body of a status change: `{ "status": "Active" | "Suspended" | "Revoked" }`. */
export function statusOf(body: unknown): ParticipantStatus {
  const status =
    typeof body === 'object' && body !== null ? (body as { status?: unknown }).status : undefined;
  if (!isParticipantStatus(status)) {
    throw DirectoryError.badRequest(`send { "status": one of ${participantStatuses.join(', ')} }`);
  }
  return status;
}

export function organisationStatusView(organisation: OrganisationRow, software: readonly SoftwareRow[]) {
  return {
    orgId: organisation.id,
    name: organisation.name,
    status: organisation.status,
    statusUpdatedAt: (organisation.statusUpdatedAt ?? organisation.createdAt).toISOString(),
    software: software.map((item) => ({
      softwareId: item.id,
      clientName: item.clientName,
      status: item.status,
      statusUpdatedAt: (item.statusUpdatedAt ?? item.createdAt).toISOString(),
    })),
  };
}

/**
 * The operator's routes (browser listener, `Authorization: Bearer <operator key>`): read and set the status
 * of an organisation or a software statement. A change holds on every instance before the answer.
 */
export async function operatorApi(scope: FastifyInstance, context: ApiContext): Promise<void> {
  const { service, operator } = context;
  scope.setErrorHandler(directoryErrorHandler);
  scope.addHook('preHandler', async (request, reply) => {
    const match = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '');
    if (!match?.[1] || !operator.matches(match[1])) {
      reply.header('www-authenticate', 'Bearer realm="directory operator"');
      throw new DirectoryError(401, 'access_denied', 'present the directory operator key as a Bearer token');
    }
  });

  scope.get('/organisations', async () => ({
    organisations: await Promise.all(
      (await service.organisations()).map(async (organisation) =>
        organisationStatusView(organisation, await service.softwareOf(organisation.id)),
      ),
    ),
  }));

  scope.get<{ Params: { orgId: string } }>('/organisations/:orgId/status', async (request) => {
    const organisation = await service.organisation(
      checkId(request.params.orgId, idPatterns.organisation, 'organisation'),
    );
    return organisationStatusView(organisation, await service.softwareOf(organisation.id));
  });

  scope.put<{ Params: { orgId: string } }>('/organisations/:orgId/status', async (request) => {
    const orgId = checkId(request.params.orgId, idPatterns.organisation, 'organisation');
    const status = statusOf(request.body);
    const organisation = await service.setOrganisationStatus(orgId, status);
    request.log.info({ orgId, status }, 'directory organisation status set');
    return organisationStatusView(organisation, await service.softwareOf(organisation.id));
  });

  scope.put<{ Params: { softwareId: string } }>('/software/:softwareId/status', async (request) => {
    const softwareId = checkId(request.params.softwareId, idPatterns.software, 'software');
    const status = statusOf(request.body);
    const software = await service.setSoftwareStatus(softwareId, status);
    request.log.info({ softwareId, status }, 'directory software status set');
    return softwareView(software);
  });
}

/** One organisation as the MLA status API lists it. */
export function mlaStatusOf(organisation: OrganisationRow) {
  return {
    OBOrganisationId: organisation.id,
    OrganisationCommonName: organisation.name,
    NCAId: `${organisation.countryCode}-${organisation.ncaName}-${organisation.ncaId}`,
    MLAStatus: organisation.status,
    MLAStatusUpdated: (organisation.statusUpdatedAt ?? organisation.createdAt).toISOString(),
  };
}

/**
 * `GET /v2.1/organisation/mlastatus` (mTLS listener, below the directory's base URL), shaped as Open
 * Banking's MLA status API: every organisation and its status, for banks. The caller is a bank: the
 * transport certificate this directory issued to a software statement with the ASPSP role. Errors are the
 * API's `{ code, message }`.
 */
export async function mlaStatusApi(scope: FastifyInstance, context: ApiContext): Promise<void> {
  const { service } = context;
  scope.setErrorHandler((error: FastifyError | DirectoryError, _request, reply) => {
    const status = error instanceof DirectoryError ? error.status : (error as FastifyError).statusCode;
    if (status === undefined || status < 400 || status >= 500) throw error;
    const code = error instanceof DirectoryError ? error.code : 'invalid_request';
    return reply.status(status).send({ code, message: error.message });
  });
  scope.addHook('onRoute', (route) => {
    route.config = { ...route.config, clientCertificate: 'optional' };
  });
  scope.get(mlaStatusPath, async (request, reply) => {
    const caller = await authenticate(service, request);
    const software = await service.software(caller.softwareId);
    if (!software.roles.includes('ASPSP')) {
      throw DirectoryError.forbidden('the MLA status is read by banks: software with the ASPSP role');
    }
    const accept = request.headers.accept;
    if (accept && !/(^|,)\s*(application\/json|application\/\*|\*\/\*)\s*(;|,|$)/.test(accept)) {
      throw new DirectoryError(406, 'invalid_request', 'the MLA status is served as application/json');
    }
    return reply
      .header('ob-request-id', randomUUID())
      .header('cache-control', 'no-store')
      .send({ Data: (await service.organisations()).map(mlaStatusOf) });
  });
}
