import type { Clock } from '../../shared/clock.ts';
import type { GuardDependencies } from '../guard/index.ts';
import type { Db } from '../http/idempotency.ts';
import type { ResponseSigner, SignatureVerifierOptions } from '../http/jws.ts';
import type { ApiVersion } from '../versions.ts';
import type { EventTokenContext } from './security-event-token.ts';

export interface EventsContext {
  db: Db;
  clock: Clock;
  guard: GuardDependencies;
  /** Request signatures (POST and PUT of subscriptions carry `x-jws-signature`, as the events files say). */
  signatures: SignatureVerifierOptions;
  /** Signs every response, as the payment APIs' responses are. */
  signer: ResponseSigner;
  /** How the SETs are signed and what they say of the bank. */
  tokens: EventTokenContext;
  /** e.g. `https://bank.example/open-banking/v3.1`. */
  publicBaseUrl: string;
  version: ApiVersion;
}
