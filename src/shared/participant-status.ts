import type { MaybePromise } from './maybe-promise.ts';

/**
 * A participant's standing at its directory: an organisation, or one of its software statements, is
 * `Active`, `Suspended` or `Revoked` — the values of Open Banking's MLA status API (`MLAStatus`,
 * specs/ob-mla-status/v2.1). Only an Active participant whose organisation is Active is served.
 */
export const participantStatuses = ['Active', 'Suspended', 'Revoked'] as const;
export type ParticipantStatus = (typeof participantStatuses)[number];

export function isParticipantStatus(value: unknown): value is ParticipantStatus {
  return typeof value === 'string' && (participantStatuses as readonly string[]).includes(value);
}

/** Who a client is at the directory: its SSA's `org_id` and `software_id`. */
export interface ParticipantRef {
  orgId: string;
  softwareId?: string;
}

export type ParticipantVerdict = { active: true } | { active: false; detail: string };

/**
 * Is this participant served right now? Answered from a cache (a hit at once, without a promise); a status
 * change drops it everywhere.
 */
export interface ParticipantStatusCheck {
  check(participant: ParticipantRef): MaybePromise<ParticipantVerdict>;
}

/** One status change, as the directory announces it (a software statement's when `softwareId` is set). */
export interface ParticipantStatusChange {
  orgId: string;
  softwareId?: string;
  status: ParticipantStatus;
}

export function readParticipantStatusChange(payload: string): ParticipantStatusChange | undefined {
  try {
    const value = JSON.parse(payload) as Record<string, unknown>;
    if (typeof value['orgId'] !== 'string' || !isParticipantStatus(value['status'])) return undefined;
    return {
      orgId: value['orgId'],
      status: value['status'],
      ...(typeof value['softwareId'] === 'string' ? { softwareId: value['softwareId'] } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * A bank configured with no directory to read statuses from (no `participantStatusUrl`) knows of no
 * suspension: every participant its trust settings accept is served. The server warns at start.
 */
export const noParticipantStatus: ParticipantStatusCheck = { check: async () => ({ active: true }) };
