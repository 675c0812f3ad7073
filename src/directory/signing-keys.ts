import { importPKCS8, SignJWT, type CryptoKey as JoseKey, type JWTPayload } from 'jose';
import { desc, eq, gt, sql } from 'drizzle-orm';
import { issueProfileCertificateWithNewKey, type Issuer } from '../pki/index.ts';
import type { Clock } from '../shared/clock.ts';
import { schema, type Queryable, type Store } from '../store/index.ts';
import { newKid } from './ids.ts';
import { jwkOfCertificate, type PublishedJwk } from './jwk.ts';
import type { MasterKey } from './master-key.ts';

const { directorySigningKeys } = schema;

export interface SigningKeyPolicy {
  /** How long a key signs before a new one takes over. */
  readonly lifetimeDays: number;
  /** How long a retired key stays in the directory JWKS after it stops signing. */
  readonly overlapDays: number;
}

export const defaultSigningKeyPolicy: SigningKeyPolicy = { lifetimeDays: 90, overlapDays: 14 };

const day = 24 * 60 * 60 * 1000;
/** Serialises key creation across every instance that shares the database. */
const creationLock = 7_265_031_301;
const sealContext = (kid: string): string => `directory-signing-key:${kid}`;

/** The identity in the certificate of the directory's own SSA-signing key (an OBSEAL). */
const directoryIdentity = {
  softwareId: 'ssa-signing',
  orgId: 'obkit-directory',
  organizationName: 'obkit Sandbox Directory',
  organizationIdentifier: 'NTRGB-OBKIT-DIRECTORY',
} as const;

interface ActiveSigner {
  kid: string;
  key: JoseKey;
}

/**
 * The directory's SSA-signing keys: RSA-2048 (PS256), each with an OBSEAL certificate from the sandbox
 * issuing CA (so its JWK carries `x5c`), private key sealed in the database with the master key. The
 * newest key signs until `lifetimeDays` have passed, then a new one is made; a retired key stays in the
 * JWKS for `overlapDays` more so that SSAs signed just before the switch still verify.
 */
export class DirectorySigningKeys {
  readonly #store: Store;
  readonly #masterKey: MasterKey;
  readonly #clock: Clock;
  readonly #issuer: Issuer;
  readonly #policy: SigningKeyPolicy;
  #cached: ActiveSigner | undefined;

  constructor(options: {
    store: Store;
    masterKey: MasterKey;
    clock: Clock;
    issuer: Issuer;
    policy?: SigningKeyPolicy;
  }) {
    this.#store = options.store;
    this.#masterKey = options.masterKey;
    this.#clock = options.clock;
    this.#issuer = options.issuer;
    this.#policy = options.policy ?? defaultSigningKeyPolicy;
  }

  /** Signs `claims` as a PS256 JWT with the current key (made on first use or when the current one is due). */
  async sign(claims: JWTPayload): Promise<string> {
    const signer = await this.current();
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'PS256', kid: signer.kid, typ: 'JWT' })
      .sign(signer.key);
  }

  /** The key that signs now. */
  async current(): Promise<ActiveSigner> {
    const [row] = await this.#newest(this.#store.db, this.#clock.now());
    const chosen = row ?? (await this.#create(false));
    if (this.#cached?.kid !== chosen.kid) {
      const pem = this.#masterKey.open(chosen.sealedPrivateKey, sealContext(chosen.kid));
      this.#cached = { kid: chosen.kid, key: await importPKCS8(pem, 'PS256') };
    }
    return this.#cached;
  }

  /**
   * Retires the signing key now (it stays in the JWKS for the overlap window) and makes a new one.
   * Returns the new key id.
   */
  async rotate(): Promise<string> {
    const created = await this.#create(true);
    return created.kid;
  }

  /** The directory JWKS: every key whose listing window has not closed, newest first. */
  async jwks(): Promise<{ keys: PublishedJwk[] }> {
    const now = this.#clock.now();
    const rows = await this.#store.db
      .select({ publicJwk: directorySigningKeys.publicJwk })
      .from(directorySigningKeys)
      .where(gt(directorySigningKeys.listedUntil, now))
      .orderBy(desc(directorySigningKeys.createdAt));
    return { keys: rows.map((row) => row.publicJwk as unknown as PublishedJwk) };
  }

  #newest(db: Queryable, now: Date) {
    return db
      .select()
      .from(directorySigningKeys)
      .where(gt(directorySigningKeys.signUntil, now))
      .orderBy(desc(directorySigningKeys.createdAt))
      .limit(1);
  }

  async #create(retireCurrent: boolean) {
    return this.#store.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${creationLock})`);
      const now = this.#clock.now();
      const [existing] = await this.#newest(tx, now);
      if (existing && !retireCurrent) return existing;
      if (existing) {
        await tx
          .update(directorySigningKeys)
          .set({ signUntil: now, listedUntil: new Date(now.getTime() + this.#policy.overlapDays * day) })
          .where(eq(directorySigningKeys.kid, existing.kid));
      }
      const kid = newKid();
      const lifetime = this.#policy.lifetimeDays * day;
      const listedFor = lifetime + this.#policy.overlapDays * day;
      const issued = await issueProfileCertificateWithNewKey(this.#issuer, {
        profile: 'obseal',
        subject: directoryIdentity,
        validityDays: Math.ceil(listedFor / day) + 1,
        clock: this.#clock,
      });
      const publicJwk = jwkOfCertificate(issued.certificatePem, kid, 'signing', this.#issuer.chainPem);
      const [row] = await tx
        .insert(directorySigningKeys)
        .values({
          kid,
          publicJwk: { ...publicJwk },
          sealedPrivateKey: this.#masterKey.seal(issued.privateKeyPem, sealContext(kid)),
          createdAt: now,
          signUntil: new Date(now.getTime() + lifetime),
          listedUntil: new Date(now.getTime() + listedFor),
        })
        .returning();
      return row!;
    });
  }
}
