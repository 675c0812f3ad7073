import { randomBytes, createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { importPKCS8, type CryptoKey } from 'jose';
import { directoryTrustAnchor, type MountedDirectory } from '../directory/index.ts';
import { organisationInputSchema, softwareInputSchema } from '../directory/validation.ts';
import { aspspSigningIssuer, OB_DIRECTORY_TRUST_ANCHOR } from '../shared/ob-jws-claims.ts';
import { readSetting, writeSetting, type Store } from '../store/index.ts';
import type { Config } from './config.ts';

/** How the bank signs its API responses: a signing key the directory certified, published in the bank's software JWKS. */
export interface BankSigningIdentity {
  key: CryptoKey;
  kid: string;
  /** `http://openbanking.org.uk/iss` of the bank's signatures: at a directory like Open Banking's, its org id. */
  issuer: string;
}

/**
 * The `http://openbanking.org.uk/tan` of every message signature, the bank's and the TPPs' (JWKms signs
 * with it too): `signingTrustAnchor` when set; otherwise the sandbox's own directory (its host) in the
 * sandbox, and the Open Banking Directory (`openbanking.org.uk`) in production.
 */
export function messageSigningTrustAnchor(
  config: Pick<Config, 'sandbox' | 'signingTrustAnchor'>,
  browserUrl: string,
): string {
  return (
    config.signingTrustAnchor ??
    (config.sandbox ? directoryTrustAnchor(browserUrl) : OB_DIRECTORY_TRUST_ANCHOR)
  );
}

/**
 * Production: the identity the bank holds at its directory, from configuration (`signingKeyFile`,
 * `signingKid`, `signingIssuer`, checked whole by loadConfig); undefined when none is configured.
 */
export async function configuredBankSigningIdentity(
  config: Pick<Config, 'signingKeyFile' | 'signingKid' | 'signingIssuer'>,
): Promise<BankSigningIdentity | undefined> {
  const { signingKeyFile, signingKid, signingIssuer } = config;
  if (!signingKeyFile || !signingKid || !signingIssuer) return undefined;
  return {
    key: (await importPKCS8(await readFile(signingKeyFile, 'utf8'), 'PS256')) as CryptoKey,
    kid: signingKid,
    issuer: signingIssuer,
  };
}

const SETTING = 'bank.directory-identity';

/** The sandbox bank's organisation id at its own directory, once `sandboxBankSigningIdentity` created it. */
export async function sandboxBankDirectoryId(store: Store): Promise<string | undefined> {
  return (await readSetting<{ orgId: string }>(store.db, SETTING))?.orgId;
}

/**
 * In the sandbox the bank is a participant of its own directory, like every ASPSP of the live ecosystem:
 * an organisation with an ASPSP software statement and a directory-certified signing key. Created once,
 * reused after (and shared by every instance, as it lives in the database). It signs as its organisation
 * id, and the directory's list of banks (`/directory/v1/aspsps`, at `discoveryUrl`) names that
 * organisation, so that it publishes where the bank's signing keys are.
 */
export async function sandboxBankSigningIdentity(
  store: Store,
  directory: MountedDirectory,
  directoryBaseUrl: string,
  discoveryUrl: string,
): Promise<BankSigningIdentity & { jwksUri: string }> {
  const { service } = directory;
  let identity = await readSetting<{ orgId: string; softwareId: string; kid: string }>(store.db, SETTING);
  if (!identity) {
    const organisation = await service.createOrganisation(
      organisationInputSchema.parse({ name: 'obkit Sandbox Bank' }),
      // Nobody manages the bank's own organisation from the web pages: the secret is thrown away.
      createHash('sha256').update(randomBytes(32)).digest('hex'),
    );
    const { software, certificates } = await service.createSoftware(
      organisation.id,
      softwareInputSchema.parse({
        clientName: 'obkit Sandbox Bank',
        description: 'The sandbox ASPSP: signs its Read/Write API responses with this software statement',
        roles: ['ASPSP'],
        redirectUris: [`${directoryBaseUrl}/bank`],
        mode: 'Live',
      }),
      'obie',
      { signing: { generate: true } },
    );
    const kid = certificates.signing?.kid;
    if (!kid) throw new Error('the directory issued no signing certificate to the sandbox bank');
    identity = { orgId: organisation.id, softwareId: software.id, kid };
    await writeSetting(store.db, SETTING, identity);
  }
  await service.linkAspspOrganisation(discoveryUrl, identity.orgId);
  const row = await service.certificate(identity.softwareId, identity.kid);
  const pem = service.privateKeyOf(row);
  if (!pem) throw new Error(`the directory does not hold the sandbox bank's signing key ${identity.kid}`);
  return {
    key: (await importPKCS8(pem, 'PS256')) as CryptoKey,
    kid: identity.kid,
    issuer: aspspSigningIssuer(identity.orgId),
    jwksUri: service.addresses.organisationJwks(identity.orgId),
  };
}
