import { importPKCS8, type CryptoKey } from 'jose';
import type { DirectoryService } from '../directory/index.ts';
import { JwkmsError } from './errors.ts';

type CertificateRow = Awaited<ReturnType<DirectoryService['certificatesOf']>>[number];
type ManagedType = 'signing' | 'encryption';

export interface ManagedKey {
  kid: string;
  type: ManagedType;
  certificatePem: string;
  privateKey: CryptoKey;
}

/**
 * The keys JWKms holds for a software statement: signing and encryption certificates the directory
 * issued with a key it generated (so it can use them), published in the software's JWKS like any other.
 * A software's first call creates them; `rotate` adds newer ones (the old stay listed for the directory's
 * overlap window, so signatures made just before still verify); `reset` revokes every managed key first.
 */
export class ManagedKeys {
  readonly #directory: DirectoryService;
  constructor(directory: DirectoryService) {
    this.#directory = directory;
  }

  async #managed(softwareId: string, type: ManagedType): Promise<CertificateRow[]> {
    const rows = await this.#directory.certificatesOf(softwareId);
    return rows.filter(
      (row) => row.type === type && row.status === 'active' && row.sealedPrivateKey !== null,
    );
  }

  /** The newest managed key of this type, created on first use. */
  async current(softwareId: string, type: ManagedType): Promise<ManagedKey> {
    let [row] = await this.#managed(softwareId, type);
    if (!row) {
      await this.#directory.issueCertificate(softwareId, type, { generate: true });
      [row] = await this.#managed(softwareId, type);
    }
    if (!row)
      throw new JwkmsError(500, 'no_managed_key', `no ${type} key could be created for ${softwareId}`);
    return this.#load(row, type);
  }

  /** Every live managed key of this type, newest first: decryption tries each. */
  async all(softwareId: string, type: ManagedType): Promise<ManagedKey[]> {
    return Promise.all((await this.#managed(softwareId, type)).map((row) => this.#load(row, type)));
  }

  async rotate(softwareId: string): Promise<string[]> {
    const signing = await this.#directory.issueCertificate(softwareId, 'signing', { generate: true });
    const encryption = await this.#directory.issueCertificate(softwareId, 'encryption', { generate: true });
    return [signing.kid, encryption.kid];
  }

  async reset(softwareId: string): Promise<{ revoked: string[]; created: string[] }> {
    const revoked: string[] = [];
    for (const type of ['signing', 'encryption'] as const) {
      for (const row of await this.#managed(softwareId, type)) {
        await this.#directory.revoke(softwareId, row.kid, 'superseded');
        revoked.push(row.kid);
      }
    }
    return { revoked, created: await this.rotate(softwareId) };
  }

  async #load(row: CertificateRow, type: ManagedType): Promise<ManagedKey> {
    const pem = this.#directory.privateKeyOf(row);
    if (!pem) throw new JwkmsError(500, 'no_managed_key', `key ${row.kid} is not held by the directory`);
    return {
      kid: row.kid,
      type,
      certificatePem: row.certificatePem,
      privateKey: (await importPKCS8(pem, type === 'signing' ? 'PS256' : 'RSA-OAEP-256')) as CryptoKey,
    };
  }
}
