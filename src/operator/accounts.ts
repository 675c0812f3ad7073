import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import {
  base32Encode,
  generateTotpSecret,
  hashPassword,
  matchTotp,
  totpUri,
  verifyPassword,
} from '../consent/index.ts';
import type { Clock } from '../shared/clock.ts';
import type { Queryable } from '../store/index.ts';
import { operatorAccounts } from '../store/schema/operator.ts';
import { appendAudit } from './audit.ts';

/**
 * The bank's staff who use the console. `admin` may act (suspend, reinstate, revoke); `auditor` may only
 * read. Passwords are scrypt hashes (src/consent/credentials.ts), the second factor a TOTP secret
 * (src/consent/totp.ts) whose codes are accepted once each. Repeated failures lock the account.
 */
export const operatorRoles = ['admin', 'auditor'] as const;
export type OperatorRole = (typeof operatorRoles)[number];

export function isOperatorRole(value: unknown): value is OperatorRole {
  return typeof value === 'string' && (operatorRoles as readonly string[]).includes(value);
}

export interface Operator {
  name: string;
  role: OperatorRole;
}

export interface LockoutPolicy {
  maxFailures: number;
  lockoutSeconds: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = { maxFailures: 5, lockoutSeconds: 15 * 60 };

const NAME = /^[a-z][a-z0-9._-]{1,63}$/;

export class OperatorAccountError extends Error {
  override name = 'OperatorAccountError';
  /** `input`: a name or role that can never be right; `exists`: the name is taken. */
  readonly reason: 'input' | 'exists';
  constructor(message: string, reason: 'input' | 'exists') {
    super(message);
    this.reason = reason;
  }
}

export interface NewOperator extends Operator {
  /** Shown once: only its hash is stored. */
  password: string;
  totpSecret: string;
  otpauthUri: string;
}

/** The authenticator app's label for an operator's TOTP secret. */
export const OPERATOR_TOTP_ISSUER = 'obkit console';

/**
 * Creates an operator with a new random password (18 bytes) and TOTP secret, returned once. `credentials`
 * is for the sandbox's documented admin only (`sandboxOperator`).
 */
export async function addOperator(
  db: Queryable,
  clock: Clock,
  input: {
    name: string;
    role: string;
    by?: string;
    credentials?: { password: string; totpSecret: string };
  },
): Promise<NewOperator> {
  if (!NAME.test(input.name)) {
    throw new OperatorAccountError(
      `operator name ${JSON.stringify(input.name)}: 2 to 64 lower-case letters, digits, dots, hyphens or underscores, starting with a letter`,
      'input',
    );
  }
  if (!isOperatorRole(input.role)) {
    throw new OperatorAccountError(`role ${JSON.stringify(input.role)}: must be admin or auditor`, 'input');
  }
  const password = input.credentials?.password ?? randomBytes(18).toString('base64url');
  const totpSecret = input.credentials?.totpSecret ?? generateTotpSecret();
  const now = clock.now();
  const inserted = await db
    .insert(operatorAccounts)
    .values({
      name: input.name,
      role: input.role,
      passwordHash: await hashPassword(password),
      totpSecret,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing()
    .returning({ name: operatorAccounts.name });
  if (inserted.length === 0)
    throw new OperatorAccountError(`operator ${input.name} already exists`, 'exists');
  await appendAudit(db, clock, {
    actor: input.by ?? 'system',
    action: 'operator.created',
    subject: `operator:${input.name}`,
    detail: { role: input.role },
  });
  return {
    name: input.name,
    role: input.role,
    password,
    totpSecret,
    otpauthUri: totpUri(totpSecret, input.name, OPERATOR_TOTP_ISSUER),
  };
}

/**
 * The sandbox's admin, documented like its customers (sandboxCredentialsFor) so that a developer and
 * the tests can log in: name `admin`, password `sandbox-operator-admin`, TOTP secret = base32 of the first
 * 20 bytes of SHA-256("obkit-sandbox-operator-totp:admin"). Never outside the sandbox.
 */
export function sandboxOperator(): {
  name: string;
  password: string;
  totpSecret: string;
  otpauthUri: string;
} {
  const name = 'admin';
  const totpSecret = base32Encode(
    createHash('sha256').update(`obkit-sandbox-operator-totp:${name}`).digest().subarray(0, 20),
  );
  return {
    name,
    password: `sandbox-operator-${name}`,
    totpSecret,
    otpauthUri: totpUri(totpSecret, name, OPERATOR_TOTP_ISSUER),
  };
}

/** Seeds the sandbox admin when the sandbox has no operator yet. */
export async function seedSandboxOperator(db: Queryable, clock: Clock): Promise<boolean> {
  if (await hasOperators(db)) return false;
  const admin = sandboxOperator();
  try {
    await addOperator(db, clock, { name: admin.name, role: 'admin', credentials: admin });
  } catch (error) {
    // Another instance seeded it meanwhile.
    if (error instanceof OperatorAccountError && (await hasOperators(db))) return false;
    throw error;
  }
  return true;
}

export async function hasOperators(db: Queryable): Promise<boolean> {
  const rows = await db.select({ name: operatorAccounts.name }).from(operatorAccounts).limit(1);
  return rows.length > 0;
}

export type LoginResult =
  | { ok: true; operator: Operator }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'locked'; lockedUntil: Date };

// Spent on unknown names so that they take as long as a real password check.
let dummyHash: Promise<string> | undefined;

/**
 * Password and TOTP code together: both must be right. Each failure is counted (atomically) and recorded
 * in the audit log; the `maxFailures`th locks the account for `lockoutSeconds`, also recorded. A locked
 * account refuses even the right password and code.
 */
export async function checkOperatorLogin(
  db: Queryable,
  clock: Clock,
  login: { name: string; password: string; code: string; address?: string },
  policy: LockoutPolicy = DEFAULT_LOCKOUT,
): Promise<LoginResult> {
  const now = clock.now();
  const [account] = NAME.test(login.name)
    ? await db.select().from(operatorAccounts).where(eq(operatorAccounts.name, login.name))
    : [];
  const audit = (action: 'operator.login' | 'operator.login-failed' | 'operator.locked-out', why?: string) =>
    appendAudit(db, clock, {
      actor: `operator:${login.name.slice(0, 64)}`,
      action,
      subject: `operator:${login.name.slice(0, 64)}`,
      ...(login.address ? { address: login.address } : {}),
      ...(why ? { detail: { reason: why } } : {}),
    });
  if (!account) {
    dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
    await verifyPassword(login.password, await dummyHash);
    await audit('operator.login-failed', 'no such operator');
    return { ok: false, reason: 'invalid' };
  }
  if (account.lockedUntil && account.lockedUntil.getTime() > now.getTime()) {
    await audit('operator.login-failed', 'locked');
    return { ok: false, reason: 'locked', lockedUntil: account.lockedUntil };
  }
  const passwordRight = await verifyPassword(login.password, account.passwordHash);
  const step = matchTotp(
    account.totpSecret,
    login.code.replace(/\s/g, ''),
    now,
    account.totpLastStep ?? undefined,
  );
  if (passwordRight && step !== undefined) {
    // One conditional update: of two logins with the same code, one wins.
    const accepted = await db
      .update(operatorAccounts)
      .set({ totpLastStep: step, failedAttempts: 0, lockedUntil: null, updatedAt: now })
      .where(
        and(
          eq(operatorAccounts.name, account.name),
          or(isNull(operatorAccounts.totpLastStep), lt(operatorAccounts.totpLastStep, step)),
        ),
      )
      .returning({ name: operatorAccounts.name });
    if (accepted.length === 1) {
      await audit('operator.login');
      return { ok: true, operator: { name: account.name, role: account.role as OperatorRole } };
    }
  }
  const lockUntil = new Date(now.getTime() + policy.lockoutSeconds * 1000);
  const stale = sql`(${operatorAccounts.lockedUntil} is not null and ${operatorAccounts.lockedUntil} <= ${now.toISOString()}::timestamptz)`;
  const next = sql`case when ${stale} then 1 else ${operatorAccounts.failedAttempts} + 1 end`;
  const [row] = await db
    .update(operatorAccounts)
    .set({
      failedAttempts: next,
      lockedUntil: sql`case when ${next} >= ${policy.maxFailures} then ${lockUntil.toISOString()}::timestamptz else null end`,
      updatedAt: now,
    })
    .where(eq(operatorAccounts.name, account.name))
    .returning({ lockedUntil: operatorAccounts.lockedUntil });
  const why = !passwordRight ? 'wrong password' : 'wrong or reused code';
  if (row?.lockedUntil) {
    await audit('operator.login-failed', why);
    await audit('operator.locked-out', `${policy.maxFailures} failed logins`);
    return { ok: false, reason: 'locked', lockedUntil: row.lockedUntil };
  }
  await audit('operator.login-failed', why);
  return { ok: false, reason: 'invalid' };
}

export async function findOperator(db: Queryable, name: string): Promise<Operator | undefined> {
  const [row] = await db
    .select({ name: operatorAccounts.name, role: operatorAccounts.role })
    .from(operatorAccounts)
    .where(eq(operatorAccounts.name, name));
  return row && isOperatorRole(row.role) ? { name: row.name, role: row.role } : undefined;
}
