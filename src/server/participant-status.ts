import type { Clock } from '../shared/clock.ts';
import {
  isParticipantStatus,
  type ParticipantRef,
  type ParticipantStatusChange,
  type ParticipantStatusCheck,
  type ParticipantVerdict,
} from '../shared/participant-status.ts';

/**
 * Whether a participant (an organisation, and one of its software statements) may be served: asked on
 * every registration, client authentication and API call. Answers are kept in this process no longer
 * than `maxCacheSeconds`; a change at the sandbox directory drops them on every instance at once (the
 * platform's fan-out calls `forget`). When the directory cannot be asked, the participant is refused
 * unless `failOpen` (the `revocationFailClosed` setting, shared with certificate status).
 */
export interface ParticipantStatusGate extends ParticipantStatusCheck {
  /** A status changed at the directory: what was kept about that organisation goes. */
  forget(change: ParticipantStatusChange): void;
}

/**
 * Where statuses come from. `software` is present when the source knows software statements (the
 * sandbox directory); the MLA status API lists organisations only.
 */
export type ParticipantStatusSource = (participant: ParticipantRef) => Promise<StoredStatus>;

interface StoredStatus {
  organisation: string | undefined;
  software?: string | undefined;
  /** Why the bank itself suspended the organisation (the operator console), whatever its directory says. */
  suspendedByBank?: string | undefined;
}

/**
 * `source`, and the bank's own suspensions beside it (`suspendedBy` answers the reason, or undefined):
 * a participant Active at its directory is still refused while the bank has suspended it.
 */
export function withBankSuspensions(
  source: ParticipantStatusSource,
  suspendedBy: (orgId: string) => Promise<string | undefined>,
): ParticipantStatusSource {
  return async (participant) => {
    const [stored, suspension] = await Promise.all([source(participant), suspendedBy(participant.orgId)]);
    return suspension === undefined ? stored : { ...stored, suspendedByBank: suspension };
  };
}

export interface ParticipantStatusOptions {
  source: ParticipantStatusSource;
  clock: Clock;
  maxCacheSeconds: number;
  failOpen: boolean;
  /** The store's change version read for this request: verdicts kept under an older one are not served. */
  version?: () => number;
}

const MAX_KEPT = 10_000;

export function createParticipantStatusGate(options: ParticipantStatusOptions): ParticipantStatusGate {
  const kept = new Map<string, { verdict: ParticipantVerdict; until: number; version: number }>();
  const versionNow = options.version ?? (() => 0);
  const keyOf = (participant: ParticipantRef) => `${participant.orgId}/${participant.softwareId ?? ''}`;
  return {
    // A hit is answered at once: this runs on every request (the API guard, the token endpoint).
    check(participant) {
      const now = options.clock.epochMs();
      const key = keyOf(participant);
      const version = versionNow();
      const hit = kept.get(key);
      if (hit && hit.until > now && hit.version === version) return hit.verdict;
      return (async () => {
        let stored;
        try {
          stored = await options.source(participant);
        } catch (error) {
          if (options.failOpen) return { active: true } as const;
          return {
            active: false,
            detail: `the status of organisation ${participant.orgId} at the directory cannot be checked: ${(error as Error).message}`,
          } as const;
        }
        const verdict = verdictOf(participant, stored);
        kept.delete(key);
        if (kept.size >= MAX_KEPT) kept.delete(kept.keys().next().value ?? '');
        kept.set(key, { verdict, until: now + options.maxCacheSeconds * 1000, version });
        return verdict;
      })();
    },
    forget(change) {
      for (const key of kept.keys()) if (key.startsWith(`${change.orgId}/`)) kept.delete(key);
    },
  };
}

function verdictOf(participant: ParticipantRef, stored: StoredStatus): ParticipantVerdict {
  if (stored.suspendedByBank !== undefined) {
    return {
      active: false,
      detail: `organisation ${participant.orgId} is suspended by the bank: ${stored.suspendedByBank}`,
    };
  }
  if (stored.organisation === undefined) {
    return { active: false, detail: `organisation ${participant.orgId} is not known at the directory` };
  }
  if (stored.organisation !== 'Active') {
    return {
      active: false,
      detail: `organisation ${participant.orgId} is ${stored.organisation} at the directory`,
    };
  }
  if (participant.softwareId !== undefined && 'software' in stored) {
    if (stored.software === undefined) {
      return {
        active: false,
        detail: `software statement ${participant.softwareId} is not known at the directory`,
      };
    }
    if (stored.software !== 'Active') {
      return {
        active: false,
        detail: `software statement ${participant.softwareId} is ${stored.software} at the directory`,
      };
    }
  }
  return { active: true };
}

/**
 * Statuses from a directory's MLA status API (`GET …/v2.1/organisation/mlastatus`, specs/ob-mla-status):
 * the whole list, fetched at most once per `maxCacheSeconds` (concurrent askers share one fetch).
 */
export function mlaStatusSource(options: {
  url: string;
  fetch: typeof fetch;
  clock: Clock;
  maxCacheSeconds: number;
}): ParticipantStatusSource {
  let list: { statuses: Map<string, string>; until: number } | undefined;
  let pending: Promise<Map<string, string>> | undefined;
  const load = async (): Promise<Map<string, string>> => {
    const response = await options.fetch(options.url, { headers: { accept: 'application/json' } });
    if (response.status !== 200) throw new Error(`${options.url} answered ${response.status}`);
    const body = (await response.json()) as { Data?: unknown };
    if (!Array.isArray(body.Data)) throw new Error(`${options.url} answered no Data list`);
    const statuses = new Map<string, string>();
    for (const item of body.Data as Record<string, unknown>[]) {
      const id = item?.['OBOrganisationId'];
      const status = item?.['MLAStatus'];
      if (typeof id === 'string' && isParticipantStatus(status)) statuses.set(id, status);
    }
    list = { statuses, until: options.clock.epochMs() + options.maxCacheSeconds * 1000 };
    return statuses;
  };
  return async (participant) => {
    const statuses =
      list && list.until > options.clock.epochMs()
        ? list.statuses
        : await (pending ??= load().finally(() => {
            pending = undefined;
          }));
    return { organisation: statuses.get(participant.orgId) };
  };
}
