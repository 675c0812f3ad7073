import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readDerivations } from '../../src/openbanking/ais/read-derivations.ts';

/** What an AIS read derives from its consent and URL, made once per consent object and URL. */
describe('AIS read derivations', () => {
  it('are made once per consent and URL, and never shared across consents or URLs', () => {
    const derivations = readDerivations<object, { made: number }>();
    let made = 0;
    const make = () => ({ made: ++made });
    const consent = {};
    const other = {};
    const first = derivations.of(consent, '/accounts/a/transactions?fromBookingDateTime=2024-01-01', make);
    assert.equal(
      derivations.of(consent, '/accounts/a/transactions?fromBookingDateTime=2024-01-01', make),
      first,
    );
    assert.equal(made, 1, 'read again: not made again');
    // The same URL under another consent (its own window and permissions), another query under the same.
    assert.notEqual(
      derivations.of(other, '/accounts/a/transactions?fromBookingDateTime=2024-01-01', make),
      first,
    );
    assert.notEqual(
      derivations.of(consent, '/accounts/a/transactions?fromBookingDateTime=2024-02-01', make),
      first,
    );
    assert.notEqual(derivations.of(consent, '/accounts/a/transactions', make), first);
    assert.equal(made, 4);
  });

  it('keep nothing of a derivation that throws: the next read is refused the same way', () => {
    const derivations = readDerivations<object, string>();
    const consent = {};
    let attempts = 0;
    const bad = () => {
      attempts += 1;
      throw new Error('fromBookingDateTime must be an ISO 8601 date');
    };
    assert.throws(() => derivations.of(consent, '/transactions?fromBookingDateTime=x', bad), /ISO 8601/);
    assert.throws(() => derivations.of(consent, '/transactions?fromBookingDateTime=x', bad), /ISO 8601/);
    assert.equal(attempts, 2);
  });

  it("keep a consent's last URLs only, the oldest dropped first", () => {
    const derivations = readDerivations<object, { url: string; made: number }>(2);
    const consent = {};
    let made = 0;
    const of = (url: string) => derivations.of(consent, url, () => ({ url, made: ++made }));
    const a = of('/a');
    of('/b');
    of('/c');
    assert.notEqual(of('/a'), a, 'the oldest was dropped, made again');
    assert.equal(of('/a').made, 4, 'and kept again');
    assert.equal(made, 4);
  });
});
