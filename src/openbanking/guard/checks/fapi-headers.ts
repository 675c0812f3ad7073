import { isIP } from 'node:net';
import { ObError } from '../../errors.ts';
import type { Check } from '../types.ts';

/** RFC 7231 IMF-fixdate, e.g. `Sun, 10 Sep 2017 19:43:31 GMT`, as FAPI asks for `x-fapi-auth-date`. */
const HTTP_DATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * The FAPI headers a TPP may send: when present they must be well formed (the OB specifications refuse
 * a malformed one with 400 UK.OBIE.Header.Invalid).
 */
export const fapiHeaders: Check = {
  name: 'FAPI headers',
  run(state) {
    const headers = state.request.headers;
    const authDate = headers['x-fapi-auth-date'];
    if (
      authDate !== undefined &&
      (typeof authDate !== 'string' || !HTTP_DATE.test(authDate) || Number.isNaN(Date.parse(authDate)))
    ) {
      throw ObError.single(
        400,
        'UK.OBIE.Header.Invalid',
        'x-fapi-auth-date must be an HTTP date such as "Sun, 10 Sep 2017 19:43:31 GMT"',
        'x-fapi-auth-date',
      );
    }
    const customerIp = headers['x-fapi-customer-ip-address'];
    if (customerIp !== undefined && (typeof customerIp !== 'string' || isIP(customerIp) === 0)) {
      throw ObError.single(
        400,
        'UK.OBIE.Header.Invalid',
        'x-fapi-customer-ip-address must be an IPv4 or IPv6 address',
        'x-fapi-customer-ip-address',
      );
    }
    const interactionId = headers['x-fapi-interaction-id'];
    if (interactionId !== undefined && (typeof interactionId !== 'string' || !UUID.test(interactionId))) {
      throw ObError.single(
        400,
        'UK.OBIE.Header.Invalid',
        'x-fapi-interaction-id must be a UUID (RFC 4122)',
        'x-fapi-interaction-id',
      );
    }
  },
};
