import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CIBA_GRANT_TYPE, cibaRegistrationMetadata } from '../../src/auth/ciba.ts';

/** Open Banking DCR's CIBA metadata under the FAPI-CIBA profile (no push, PS256 signed requests). */
describe('CIBA client metadata in DCR', () => {
  const grants = ['authorization_code', 'client_credentials', CIBA_GRANT_TYPE];
  const redirects = ['https://tpp.example/callback', 'https://tpp.example/other'];
  const poll = {
    backchannel_token_delivery_mode: 'poll',
    backchannel_authentication_request_signing_alg: 'PS256',
  };

  it('poll: stored with PS256, no user codes, and the redirect host as sector identifier', () => {
    assert.deepEqual(cibaRegistrationMetadata(poll, grants, redirects), {
      metadata: {
        sector_identifier_uri: 'https://tpp.example/',
        backchannel_token_delivery_mode: 'poll',
        backchannel_authentication_request_signing_alg: 'PS256',
        backchannel_user_code_parameter: false,
      },
    });
  });

  it('ping: needs an https notification endpoint', () => {
    const ping = { ...poll, backchannel_token_delivery_mode: 'ping' };
    assert.match(errorOf(cibaRegistrationMetadata(ping, grants, redirects)), /https/);
    assert.match(
      errorOf(
        cibaRegistrationMetadata(
          { ...ping, backchannel_client_notification_endpoint: 'http://tpp.example/n' },
          grants,
          redirects,
        ),
      ),
      /https/,
    );
    const ok = cibaRegistrationMetadata(
      { ...ping, backchannel_client_notification_endpoint: 'https://tpp.example/n' },
      grants,
      redirects,
    );
    assert.ok('metadata' in ok);
    assert.equal(ok.metadata['backchannel_client_notification_endpoint'], 'https://tpp.example/n');
  });

  it('refused: push mode, RS256 or missing request signing, user codes, stray metadata, several hosts', () => {
    const refusals: [Record<string, unknown>, string[], string[], RegExp][] = [
      [{ ...poll, backchannel_token_delivery_mode: 'push' }, grants, redirects, /poll or ping/],
      [{ ...poll, backchannel_authentication_request_signing_alg: 'RS256' }, grants, redirects, /PS256/],
      [{ backchannel_token_delivery_mode: 'poll' }, grants, redirects, /PS256/],
      [{ ...poll, backchannel_user_code_parameter_supported: true }, grants, redirects, /false/],
      [
        { ...poll, backchannel_client_notification_endpoint: 'https://tpp.example/n' },
        grants,
        redirects,
        /ping/,
      ],
      [poll, ['authorization_code'], redirects, /needs the urn:openid:params:grant-type:ciba grant/],
      [poll, grants, ['https://a.example/cb', 'https://b.example/cb'], /one host/],
    ];
    for (const [request, grantTypes, uris, message] of refusals) {
      assert.match(
        errorOf(cibaRegistrationMetadata(request, grantTypes, uris)),
        message,
        JSON.stringify(request),
      );
    }
  });

  it('a client without the CIBA grant and without CIBA metadata gets nothing extra', () => {
    assert.deepEqual(cibaRegistrationMetadata({}, ['authorization_code'], redirects), { metadata: {} });
  });
});

function errorOf(result: { metadata: Record<string, unknown> } | { error: string }): string {
  assert.ok('error' in result, `expected a refusal, got ${JSON.stringify(result)}`);
  return result.error;
}
