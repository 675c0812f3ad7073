import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, lt } from 'drizzle-orm';
import type { Clock } from '../shared/clock.ts';
import type { Queryable } from '../store/index.ts';
import { operatorSessions } from '../store/schema/operator.ts';
import { findOperator, type Operator } from './accounts.ts';

/** A console session lasts a working day at most; logging out ends it at once. */
export const OPERATOR_SESSION_SECONDS = 8 * 3600;

const hashOf = (token: string) => createHash('sha256').update(token).digest('base64url');

/** A new session for a logged-in operator; returns the cookie value (only its hash is stored). */
export async function startOperatorSession(db: Queryable, clock: Clock, operator: Operator): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  const now = clock.now();
  await db.delete(operatorSessions).where(lt(operatorSessions.expiresAt, now));
  await db.insert(operatorSessions).values({
    id: hashOf(token),
    operator: operator.name,
    stage: 'authenticated',
    createdAt: now,
    expiresAt: new Date(now.getTime() + OPERATOR_SESSION_SECONDS * 1000),
  });
  return token;
}

/** The operator a cookie value belongs to, with the role they have now; undefined when none or expired. */
export async function operatorOfSession(
  db: Queryable,
  clock: Clock,
  token: string | undefined,
): Promise<Operator | undefined> {
  if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const [row] = await db
    .select({ operator: operatorSessions.operator })
    .from(operatorSessions)
    .where(
      and(
        eq(operatorSessions.id, hashOf(token)),
        eq(operatorSessions.stage, 'authenticated'),
        gt(operatorSessions.expiresAt, clock.now()),
      ),
    );
  return row ? findOperator(db, row.operator) : undefined;
}

export async function endOperatorSession(db: Queryable, token: string | undefined): Promise<void> {
  if (token) await db.delete(operatorSessions).where(eq(operatorSessions.id, hashOf(token)));
}
