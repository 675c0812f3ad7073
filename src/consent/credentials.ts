import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { psuCredentials, psuUnknownLogins } from '../store/schema/consent.ts';
import type { ConsentContext } from './intents.ts';
import { base32Decode, base32Encode, matchTotp } from './totp.ts';

/**
 * The PSU's credentials, keyed by the bank's customer id: a scrypt password hash with a per-user salt, a
 * TOTP secret, and a failed-attempt counter shared by both factors. After `maxFailures` failures in a row
 * the login is locked for `lockoutSeconds`; a complete login (password and TOTP) resets the counter.
 * Usernames that match no customer are counted the same way, so the answers do not tell them apart.
 */
export interface CredentialPolicy {
  maxFailures: number;
  lockoutSeconds: number;
}

export const DEFAULT_CREDENTIAL_POLICY: CredentialPolicy = { maxFailures: 5, lockoutSeconds: 15 * 60 };

// scrypt cost: N = 2^15, r = 8, p = 1 (32 MiB, the OWASP-recommended minimum for interactive logins).
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keyLength: 32, saltLength: 16 } as const;

function scryptAsync(password: string, salt: Buffer, N: number, r: number, p: number, keyLength: number) {
  return new Promise<Buffer>((resolve, reject) => {
    scrypt(password, salt, keyLength, { N, r, p, maxmem: 256 * N * r }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** `scrypt$N$r$p$<salt>$<hash>`, base64url. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SCRYPT.saltLength);
  const key = await scryptAsync(
    password.normalize('NFC'),
    salt,
    SCRYPT.N,
    SCRYPT.r,
    SCRYPT.p,
    SCRYPT.keyLength,
  );
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join(
    '$',
  );
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 2 ** 20) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (expected.length < 16) return false;
  const actual = await scryptAsync(password.normalize('NFC'), salt, N, r, p, expected.length);
  return timingSafeEqual(actual, expected);
}

/** A fresh TOTP secret: 20 random bytes (RFC 4226's recommended length), base32. */
export function generateTotpSecret(): string {
  return base32Encode(randomBytes(20));
}

/** The `otpauth://` URI an authenticator app scans. */
export function totpUri(secretBase32: string, accountName: string, issuer = 'obkit bank'): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(accountName)}`;
  const query = new URLSearchParams({
    secret: secretBase32,
    issuer,
    algorithm: 'SHA1',
    digits: '6',
    period: '30',
  });
  return `otpauth://totp/${label}?${query.toString()}`;
}

export interface NewCredentials {
  password: string;
  totpSecret: string;
}

/** Sets (or replaces) a customer's password and TOTP secret, and clears any lock-out. */
export async function setCredentials(
  ctx: ConsentContext,
  customerId: string,
  credentials: NewCredentials,
): Promise<void> {
  if (credentials.password.length < 8) throw new Error('a password has at least 8 characters');
  if (base32Decode(credentials.totpSecret).length < 10) throw new Error('a TOTP secret has at least 80 bits');
  const values = {
    passwordHash: await hashPassword(credentials.password),
    totpSecret: credentials.totpSecret.toUpperCase().replace(/[\s=-]/g, ''),
    totpLastStep: null,
    failedAttempts: 0,
    lockedUntil: null,
    updatedAt: ctx.clock.now(),
  };
  await ctx.db
    .insert(psuCredentials)
    .values({ customerId, ...values })
    .onConflictDoUpdate({ target: psuCredentials.customerId, set: values });
}

export async function hasCredentials(ctx: ConsentContext, customerId: string): Promise<boolean> {
  const rows = await ctx.db
    .select({ id: psuCredentials.customerId })
    .from(psuCredentials)
    .where(eq(psuCredentials.customerId, customerId));
  return rows.length > 0;
}

/** Lifts a lock-out and clears the failure counter (support desk). */
export async function unlockCredentials(ctx: ConsentContext, customerId: string): Promise<void> {
  await ctx.db
    .update(psuCredentials)
    .set({ failedAttempts: 0, lockedUntil: null, updatedAt: ctx.clock.now() })
    .where(eq(psuCredentials.customerId, customerId));
}

export type FactorResult =
  | { ok: true }
  | { ok: false; reason: 'invalid'; remainingAttempts: number }
  | { ok: false; reason: 'locked'; lockedUntil: Date }
  /** A TOTP code that was already accepted once: refused, not counted as a failure. */
  | { ok: false; reason: 'reused' };

/** One failure more, atomically; a lock that has run out starts the count again. Returns the new state. */
async function countFailure(
  ctx: ConsentContext,
  table: typeof psuCredentials | typeof psuUnknownLogins,
  where: ReturnType<typeof eq>,
  policy: CredentialPolicy,
): Promise<FactorResult> {
  const now = ctx.clock.now();
  const lockUntil = new Date(now.getTime() + policy.lockoutSeconds * 1000);
  const stale = sql`(${table.lockedUntil} is not null and ${table.lockedUntil} <= ${now.toISOString()}::timestamptz)`;
  const next = sql`case when ${stale} then 1 else ${table.failedAttempts} + 1 end`;
  const rows = await ctx.db
    .update(table)
    .set({
      failedAttempts: next,
      lockedUntil: sql`case when ${next} >= ${policy.maxFailures} then ${lockUntil.toISOString()}::timestamptz else null end`,
      updatedAt: now,
    })
    .where(where)
    .returning({ failedAttempts: table.failedAttempts, lockedUntil: table.lockedUntil });
  const row = rows[0];
  if (!row) return { ok: false, reason: 'invalid', remainingAttempts: policy.maxFailures - 1 };
  if (row.lockedUntil) return { ok: false, reason: 'locked', lockedUntil: row.lockedUntil };
  return {
    ok: false,
    reason: 'invalid',
    remainingAttempts: Math.max(0, policy.maxFailures - row.failedAttempts),
  };
}

function lockedAt(lockedUntil: Date | null, now: Date): FactorResult | undefined {
  return lockedUntil && lockedUntil.getTime() > now.getTime()
    ? { ok: false, reason: 'locked', lockedUntil }
    : undefined;
}

function usernameKey(username: string): string {
  return createHash('sha256').update(username.trim().toLowerCase()).digest('base64url');
}

// Spent on unknown usernames so that they take as long as a real password check.
let dummyHash: Promise<string> | undefined;

/**
 * The first factor. `customerId` is the customer the username names, or undefined when it names none (the
 * answer then looks like a wrong password for an existing customer, counted under the username).
 */
export async function checkPassword(
  ctx: ConsentContext,
  login: { username: string; customerId: string | undefined; password: string },
  policy: CredentialPolicy = DEFAULT_CREDENTIAL_POLICY,
): Promise<FactorResult> {
  const now = ctx.clock.now();
  const credentials = login.customerId
    ? (await ctx.db.select().from(psuCredentials).where(eq(psuCredentials.customerId, login.customerId)))[0]
    : undefined;
  if (!credentials) {
    const key = usernameKey(login.username);
    const [known] = await ctx.db
      .select()
      .from(psuUnknownLogins)
      .where(eq(psuUnknownLogins.usernameHash, key));
    const locked = lockedAt(known?.lockedUntil ?? null, now);
    if (locked) return locked;
    dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
    await verifyPassword(login.password, await dummyHash);
    // Counters of names nobody has tried for a day are forgotten, so the table stays small.
    const stale = new Date(now.getTime() - 86_400_000);
    await ctx.db
      .delete(psuUnknownLogins)
      .where(
        and(
          lt(psuUnknownLogins.updatedAt, stale),
          or(isNull(psuUnknownLogins.lockedUntil), lt(psuUnknownLogins.lockedUntil, now)),
        ),
      );
    await ctx.db
      .insert(psuUnknownLogins)
      .values({ usernameHash: key, failedAttempts: 0, updatedAt: now })
      .onConflictDoNothing();
    return countFailure(ctx, psuUnknownLogins, eq(psuUnknownLogins.usernameHash, key), policy);
  }
  const locked = lockedAt(credentials.lockedUntil, now);
  if (locked) return locked;
  if (await verifyPassword(login.password, credentials.passwordHash)) return { ok: true };
  return countFailure(ctx, psuCredentials, eq(psuCredentials.customerId, credentials.customerId), policy);
}

/**
 * The second factor, after the password. A code of the current step or one either side is accepted once;
 * acceptance is one conditional UPDATE (`totp_last_step` < step), so of two concurrent submissions of the
 * same code exactly one succeeds. Success clears the failure counter.
 */
export async function checkTotp(
  ctx: ConsentContext,
  customerId: string,
  code: string,
  policy: CredentialPolicy = DEFAULT_CREDENTIAL_POLICY,
): Promise<FactorResult> {
  const now = ctx.clock.now();
  const [credentials] = await ctx.db
    .select()
    .from(psuCredentials)
    .where(eq(psuCredentials.customerId, customerId));
  if (!credentials) return { ok: false, reason: 'invalid', remainingAttempts: 0 };
  const locked = lockedAt(credentials.lockedUntil, now);
  if (locked) return locked;
  const normalised = code.replace(/\s/g, '');
  const step = matchTotp(credentials.totpSecret, normalised, now, credentials.totpLastStep ?? undefined);
  if (step === undefined) {
    // The right code a second time (or an older one of the window): a replay, not a guess.
    const replayed = matchTotp(credentials.totpSecret, normalised, now);
    if (replayed !== undefined) return { ok: false, reason: 'reused' };
    return countFailure(ctx, psuCredentials, eq(psuCredentials.customerId, customerId), policy);
  }
  const accepted = await ctx.db
    .update(psuCredentials)
    .set({ totpLastStep: step, failedAttempts: 0, lockedUntil: null, updatedAt: now })
    .where(
      and(
        eq(psuCredentials.customerId, customerId),
        or(isNull(psuCredentials.totpLastStep), lt(psuCredentials.totpLastStep, step)),
        or(isNull(psuCredentials.lockedUntil), lt(psuCredentials.lockedUntil, now)),
      ),
    )
    .returning({ id: psuCredentials.customerId });
  return accepted.length === 1 ? { ok: true } : { ok: false, reason: 'reused' };
}

/**
 * Sandbox credentials, documented so that docs and a TPP's CI can log in and compute codes:
 * password `sandbox-<username>`; TOTP secret = base32 of the first 20 bytes of
 * SHA-256("obkit-sandbox-totp:<username>").
 */
export function sandboxCredentialsFor(username: string): NewCredentials {
  const seed = createHash('sha256').update(`obkit-sandbox-totp:${username}`).digest().subarray(0, 20);
  return { password: `sandbox-${username}`, totpSecret: base32Encode(seed) };
}

export interface SeedCustomer {
  id: string;
  username: string;
}

/**
 * Gives every customer the sandbox credentials of `sandboxCredentialsFor`. Customers that already have
 * credentials keep them, unless `reset` is set. Returns what was seeded, for the CLI to print.
 */
export async function seedCredentials(
  ctx: ConsentContext,
  customers: readonly SeedCustomer[],
  options: { reset?: boolean } = {},
): Promise<(SeedCustomer & NewCredentials)[]> {
  // Side by side: each password hash (scrypt) runs on the thread pool, so a first start waits for one.
  const outcomes = await Promise.all(
    customers.map(async (customer) => {
      if (!options.reset && (await hasCredentials(ctx, customer.id))) return undefined;
      const credentials = sandboxCredentialsFor(customer.username);
      await setCredentials(ctx, customer.id, credentials);
      return { ...customer, ...credentials };
    }),
  );
  return outcomes.filter((outcome) => outcome !== undefined);
}
