import { createHash, randomBytes } from 'node:crypto';
import { eq, lt } from 'drizzle-orm';
import { consentSessions } from '../../store/schema/consent.ts';
import type { ConsentContext } from '../intents.ts';

/**
 * The consent app's browser session for one interaction, kept in the database (every instance is stateless
 * beyond it). The cookie carries 32 random bytes; the row is keyed by their SHA-256, so a database dump
 * gives no usable cookie. Each session holds how far the login has come (forms are protected by the
 * platform's CSRF token, src/shared/page-security). The id is rotated whenever the login stage advances.
 */
export type SessionStage = 'start' | 'password' | 'authenticated';

export interface ConsentSession {
  id: string;
  interactionUid: string;
  stage: SessionStage;
  customerId: string | undefined;
  expiresAt: Date;
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

function toSession(row: typeof consentSessions.$inferSelect): ConsentSession {
  const stage: SessionStage = row.stage === 'password' || row.stage === 'authenticated' ? row.stage : 'start';
  return {
    id: row.id,
    interactionUid: row.interactionUid,
    stage,
    customerId: row.customerId ?? undefined,
    expiresAt: row.expiresAt,
  };
}

export async function createSession(
  ctx: ConsentContext,
  interactionUid: string,
  ttlSeconds: number,
): Promise<{ token: string; session: ConsentSession }> {
  const now = ctx.clock.now();
  await ctx.db.delete(consentSessions).where(lt(consentSessions.expiresAt, now));
  const token = randomBytes(32).toString('base64url');
  const [row] = await ctx.db
    .insert(consentSessions)
    .values({
      id: digest(token),
      interactionUid,
      stage: 'start',
      customerId: null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
    })
    .returning();
  return { token, session: toSession(row!) };
}

/** The live session of this cookie for this interaction, or undefined. */
export async function loadSession(
  ctx: ConsentContext,
  token: string | undefined,
  interactionUid: string,
): Promise<ConsentSession | undefined> {
  if (!token || token.length > 128) return undefined;
  const [row] = await ctx.db
    .select()
    .from(consentSessions)
    .where(eq(consentSessions.id, digest(token)));
  if (!row || row.interactionUid !== interactionUid) return undefined;
  if (row.expiresAt.getTime() <= ctx.clock.now().getTime()) return undefined;
  return toSession(row);
}

/**
 * Moves the session to a new stage under a new cookie value; returns the new cookie value, or undefined
 * when the session was advanced or ended concurrently (a double submission).
 */
export async function advanceSession(
  ctx: ConsentContext,
  session: ConsentSession,
  stage: SessionStage,
  customerId: string | undefined,
): Promise<string | undefined> {
  const token = randomBytes(32).toString('base64url');
  const updated = await ctx.db
    .update(consentSessions)
    .set({ id: digest(token), stage, customerId: customerId ?? null })
    .where(eq(consentSessions.id, session.id))
    .returning({ id: consentSessions.id });
  if (updated.length !== 1) return undefined;
  session.id = digest(token);
  session.stage = stage;
  session.customerId = customerId;
  return token;
}

export async function endSession(ctx: ConsentContext, session: ConsentSession): Promise<void> {
  await ctx.db.delete(consentSessions).where(eq(consentSessions.id, session.id));
}
