import { desc, sql } from 'drizzle-orm';
import type { Queryable } from '../store/index.ts';
import { auditLog } from '../store/schema/operator.ts';
import type { Clock } from '../shared/clock.ts';

/**
 * The security audit log: appended to, never changed. There is no update or delete here, nor anywhere
 * else; on PostgreSQL a trigger refuses them too (migration 0010). Consent lifecycle changes are the
 * consent part's own record (`consent_audit`, written in the same transaction as the change); the console
 * shows both, merged by time (`readAudit`).
 */
export type AuditAction =
  | 'operator.created'
  | 'operator.login'
  | 'operator.login-failed'
  | 'operator.locked-out'
  | 'operator.logout'
  | 'operator.refused'
  | 'participant.suspended'
  | 'participant.reinstated'
  | 'consent.revoked'
  | 'registration.registered'
  | 'registration.updated'
  | 'registration.deleted';

export interface AuditRecord {
  actor: string;
  action: AuditAction;
  subject?: string;
  address?: string;
  detail?: Record<string, unknown>;
}

export async function appendAudit(db: Queryable, clock: Clock, record: AuditRecord): Promise<void> {
  await db.insert(auditLog).values({
    at: clock.now(),
    actor: record.actor,
    action: record.action,
    subject: record.subject ?? null,
    address: record.address ?? null,
    detail: record.detail ?? {},
  });
}

export interface AuditLine {
  at: Date;
  actor: string;
  action: string;
  subject: string | null;
  address: string | null;
  detail: string;
}

export interface AuditQuery {
  /** Matches actor, action or subject (a substring, case-insensitive). */
  text?: string;
  limit?: number;
}

/**
 * The newest entries of both logs: the security audit log and the consents' lifecycle (`consent_audit`:
 * who created, authorised, used, revoked each consent, and when), newest first.
 */
export async function readAudit(db: Queryable, query: AuditQuery = {}): Promise<AuditLine[]> {
  const limit = Math.min(Math.max(query.limit ?? 200, 1), 1000);
  const pattern = query.text ? `%${query.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined;
  const rows = await db.execute(sql`
    select at, actor, action, subject, address, detail from (
      select ${auditLog.at} as at, ${auditLog.actor} as actor, ${auditLog.action} as action,
             ${auditLog.subject} as subject, ${auditLog.address} as address, ${auditLog.detail}::text as detail,
             ${auditLog.id} as seq, 1 as source
        from ${auditLog}
      union all
      select c.at, c.actor, 'consent.' || c.event, 'consent:' || c.intent_id, null,
             concat_ws(' ', c.from_status || ' → ' || c.to_status, c.detail), c.id, 0
        from consent_audit c
    ) entries
    ${pattern ? sql`where actor ilike ${pattern} or action ilike ${pattern} or subject ilike ${pattern}` : sql``}
    order by at desc, source desc, seq desc
    limit ${limit}`);
  return (rows as unknown as { rows: Record<string, unknown>[] }).rows.map((row) => ({
    at: row['at'] instanceof Date ? row['at'] : new Date(String(row['at'])),
    actor: String(row['actor']),
    action: String(row['action']),
    subject: row['subject'] === null ? null : String(row['subject']),
    address: row['address'] === null ? null : String(row['address']),
    detail: String(row['detail'] ?? ''),
  }));
}

/** The newest security audit entries alone (tests and the CLI). */
export async function latestAudit(db: Queryable, limit = 50) {
  return db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(limit);
}
