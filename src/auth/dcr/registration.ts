import { randomUUID } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';
import type { Queryable } from '../../store/index.ts';
import { audiences, isHttps, type Claims } from './claims.ts';
import { runPipeline } from './pipeline.ts';
import { deleteRegistration, saveRegistration } from './store.ts';
import {
  need,
  type DcrContext,
  type DcrInput,
  type DcrOperation,
  type RegistrationOptions,
  type StoredRegistration,
  type TrustedDirectory,
} from './types.ts';

export { DcrAccessError, DcrError, type DcrErrorCode } from './errors.ts';
export { REGISTRATION_MODEL } from './store.ts';
export type { DcrInput, RegistrationOptions, TrustedDirectory } from './types.ts';

/** An ASPSP's id at an Open Banking directory, as the DCR specification's `aud` has it. */
const DIRECTORY_ID = /^[0-9a-zA-Z]{1,18}$/;

/** The SSA claims the response repeats and the client keeps. */
const SSA_CLAIMS_KEPT = [
  'software_id',
  'software_client_id',
  'software_client_name',
  'software_client_description',
  'software_version',
  'software_client_uri',
  'software_redirect_uris',
  'software_roles',
  'software_logo_uri',
  'software_policy_uri',
  'software_tos_uri',
  'software_jwks_endpoint',
  'software_environment',
  'software_mode',
  'org_id',
  'org_name',
  'org_status',
] as const;

export interface RegisteredClient {
  clientId: string;
  /** What the provider stores and authenticates the client by. */
  metadata: ClientMetadata;
  /** The Open Banking registration response body. */
  response: Record<string, unknown>;
}

/**
 * Open Banking Dynamic Client Registration in front of the provider's client store. Each operation runs
 * its table of checks (pipeline.ts), then acts: stores, answers or deletes the registration. Refusals are
 * thrown as DcrError (RFC 7591, 400) or DcrAccessError (401/403) for the HTTP layer to answer.
 */
export class Registrar {
  readonly #options: RegistrationOptions;
  readonly #directories: Map<string, TrustedDirectory>;

  constructor(options: RegistrationOptions) {
    for (const directory of options.directories) {
      if (!isHttps(directory.jwksUri)) throw new Error(`directory JWKS ${directory.jwksUri} must be https`);
    }
    this.#options = options;
    this.#directories = new Map(options.directories.map((directory) => [directory.issuer, directory]));
  }

  get #db(): Queryable {
    return this.#options.server.store.db;
  }

  async #checked(operation: DcrOperation, input: DcrInput): Promise<DcrContext> {
    const context: DcrContext = {
      operation,
      input,
      options: this.#options,
      directories: this.#directories,
      now: Math.floor(this.#options.clock.now().getTime() / 1000),
      tolerance: this.#options.clockToleranceSeconds ?? 30,
      client: {},
      // A new registration's client id; the other operations take the path's once the caller is known.
      ...(operation === 'POST' ? { clientId: randomUUID() } : {}),
    };
    await runPipeline(context);
    return context;
  }

  /** POST /register: a new client. */
  async register(input: DcrInput): Promise<RegisteredClient> {
    return this.#store(await this.#checked('POST', input));
  }

  /** PUT /register/:ClientId: the client's registration replaced, keeping its id and issue time. */
  async update(input: DcrInput): Promise<RegisteredClient> {
    return this.#store(await this.#checked('PUT', input));
  }

  /** GET /register/:ClientId: the client's registration response. */
  async read(input: DcrInput): Promise<StoredRegistration> {
    return need(await this.#checked('GET', input), 'registered');
  }

  /** DELETE /register/:ClientId: the client, its registration, and every token and grant it holds. */
  async remove(input: DcrInput): Promise<void> {
    const clientId = need(await this.#checked('DELETE', input), 'clientId');
    await deleteRegistration(this.#db, clientId);
    await this.#options.server.clientChanged(clientId);
    await this.#options.onDeleted?.(clientId);
  }

  async #store(context: DcrContext): Promise<RegisteredClient> {
    const clientId = need(context, 'clientId');
    const metadata = need(context, 'metadata');
    const response = this.#response(
      metadata,
      need(context, 'request'),
      need(context, 'ssa'),
      await this.#responseAudience(need(context, 'request')),
    );
    await saveRegistration(this.#db, clientId, { metadata, response });
    // A new client was never kept anywhere; a replaced registration may be.
    if (context.operation === 'PUT') await this.#options.server.clientChanged(clientId);
    return { clientId, metadata, response };
  }

  /** The request's `aud` when it is a directory id; else the bank's directory id, if known. */
  async #responseAudience(request: Claims): Promise<string> {
    const named = audiences(request);
    const id = named.find((value) => DIRECTORY_ID.test(value));
    if (id) return id;
    const ours =
      (await this.#options.directoryId?.()) ??
      this.#options.audiences.find((audience) => DIRECTORY_ID.test(audience));
    return ours ?? named[0] ?? '';
  }

  #response(metadata: ClientMetadata, request: Claims, ssa: Claims, aud: string): Record<string, unknown> {
    const kept: Record<string, unknown> = {};
    for (const name of SSA_CLAIMS_KEPT) if (ssa[name] !== undefined) kept[name] = ssa[name];
    return {
      ...kept,
      // The request's own claims, as the OBClientRegistration1 response schema carries them.
      iss: request['iss'],
      iat: request['iat'],
      exp: request['exp'],
      aud,
      jti: request['jti'],
      client_id: metadata.client_id,
      client_id_issued_at: metadata.client_id_issued_at,
      redirect_uris: metadata.redirect_uris,
      token_endpoint_auth_method: metadata.token_endpoint_auth_method,
      ...(metadata.token_endpoint_auth_signing_alg
        ? { token_endpoint_auth_signing_alg: metadata.token_endpoint_auth_signing_alg }
        : {}),
      ...(metadata.tls_client_auth_subject_dn
        ? { tls_client_auth_subject_dn: metadata.tls_client_auth_subject_dn }
        : {}),
      grant_types: metadata.grant_types,
      response_types: metadata.response_types,
      scope: metadata.scope,
      software_id: metadata['software_id'],
      software_statement: metadata['software_statement'],
      application_type: request['application_type'] ?? metadata.application_type,
      id_token_signed_response_alg: metadata.id_token_signed_response_alg,
      request_object_signing_alg: metadata.request_object_signing_alg,
      ...(metadata['backchannel_token_delivery_mode'] !== undefined
        ? {
            backchannel_token_delivery_mode: metadata['backchannel_token_delivery_mode'],
            backchannel_authentication_request_signing_alg:
              metadata['backchannel_authentication_request_signing_alg'],
            backchannel_user_code_parameter_supported: false,
            ...(metadata['backchannel_client_notification_endpoint'] !== undefined
              ? {
                  backchannel_client_notification_endpoint:
                    metadata['backchannel_client_notification_endpoint'],
                }
              : {}),
          }
        : {}),
    };
  }
}
