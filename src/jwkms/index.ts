/** src/jwkms: sign, sign+encrypt, decrypt and validate JWTs with a participant's keys; rotate and reset them; test mTLS. */
export { mountJwkms, type JwkmsMountContext } from './part.ts';
export { jwkmsPrefix } from './http-api.ts';
