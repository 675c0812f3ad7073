import type { FastifyRequest } from 'fastify';
import { isPending, type MaybePromise } from './maybe-promise.ts';

/**
 * On PostgreSQL every request reads the store's change version before anything cached is consulted
 * (`src/server/change-version.ts`): a round trip of its own before the request's data is read. A route
 * whose answer rests on one statement can fold that read into the statement instead (route config
 * `changeVersion: 'read by the handler'`): its checks run under the version this instance last read, its
 * statement also returns the version its snapshot saw, and when that one is newer the request is checked
 * again under it (certificate status, token, participant, consent), and its statement runs again, before
 * anything is answered. A revocation committed before the request began is refused just as with the read
 * up front: the statement began after it, so it sees its version.
 */
export interface DeferredChangeVersion {
  /** The version (at least) under which this request's checks so far ran. */
  readonly checkedUnder: number;
  /** Takes `version` as read, and runs the surface's own checks again under it (the client certificate). */
  advance(version: number): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the surface when this request's route reads the change version itself, on PostgreSQL. */
    deferredChangeVersion?: DeferredChangeVersion;
  }
  interface FastifyContextConfig {
    /** The route reads the change version in its own statement (`withDeferredChangeVersion`). */
    changeVersion?: 'read by the handler';
  }
}

/** Thrown by `assertCheckedUnder` when the request must be checked again under a newer version. */
class ChangeVersionAdvanced extends Error {
  readonly version: number;
  constructor(version: number) {
    super(`the store's change version advanced to ${version} during the request`);
    this.version = version;
  }
}

/**
 * Called with the change version a request's statement returned: returns when the request was checked
 * under it (or the version is not deferred: read up front, or the embedded store), else ends the attempt
 * so that `withDeferredChangeVersion` checks the request again.
 */
export function assertCheckedUnder(request: FastifyRequest, changeVersion: number): void {
  const deferred = request.deferredChangeVersion;
  if (deferred && changeVersion > deferred.checkedUnder) throw new ChangeVersionAdvanced(changeVersion);
}

/** More advances than this within one request means announcements are arriving faster than it can be checked. */
export const MAX_ATTEMPTS = 5;

/**
 * The store's change version kept moving while one request was checked again and again: announcements
 * arrive faster than a request can be re-checked. A transient overload, not a fault of the request nor of
 * ours — the surface answers 503 with `Retry-After` in its family's error format, never a 500.
 */
export class ChangesOutpacedRequest extends Error {
  constructor(attempts: number, cause: Error) {
    super(`the store's change version advanced ${attempts} times in a row during one request`, { cause });
  }
}

/**
 * Runs `attempt` (which calls `assertCheckedUnder` with its statement's version before using its data);
 * when the version advanced, takes it, runs `checkAgain` (the route's guard) and tries again. An attempt
 * answered at once (a read the embedded database answers again without a statement) is answered at once,
 * not through a promise; whatever else it throws is thrown as it is.
 */
export function withDeferredChangeVersion<T>(
  request: FastifyRequest,
  attempt: () => MaybePromise<T>,
  checkAgain: () => MaybePromise<void>,
): MaybePromise<T> {
  let answer: MaybePromise<T>;
  try {
    answer = attempt();
  } catch (error) {
    if (!(error instanceof ChangeVersionAdvanced) || !request.deferredChangeVersion) throw error;
    return checkedAgain(request, error, attempt, checkAgain);
  }
  if (!isPending(answer)) return answer;
  return Promise.resolve(answer).catch((error: unknown) => checkedAgain(request, error, attempt, checkAgain));
}

/** After the first attempt failed with `error`: the request checked again and attempted again, or `error`. */
async function checkedAgain<T>(
  request: FastifyRequest,
  error: unknown,
  attempt: () => MaybePromise<T>,
  checkAgain: () => MaybePromise<void>,
): Promise<T> {
  for (let attempts = 1; ; attempts++) {
    const deferred = request.deferredChangeVersion;
    if (!(error instanceof ChangeVersionAdvanced) || !deferred) throw error;
    if (attempts >= MAX_ATTEMPTS) throw new ChangesOutpacedRequest(attempts, error);
    await deferred.advance(error.version);
    await checkAgain();
    try {
      return await attempt();
    } catch (failed) {
      error = failed;
    }
  }
}
