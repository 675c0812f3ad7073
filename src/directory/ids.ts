import { randomBytes, randomInt } from 'node:crypto';

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random letters and digits, uniformly chosen (no modulo bias). */
function alphanumeric(length: number): string {
  let result = '';
  for (let i = 0; i < length; i++) result += alphabet[randomInt(alphabet.length)];
  return result;
}

/** An organisation id in the Open Banking Directory's style: 18 letters and digits. */
export function newOrganisationId(): string {
  return `0015${alphanumeric(14)}`;
}

/** A software statement id: 22 letters and digits (the CN of its certificates). */
export function newSoftwareId(): string {
  return alphanumeric(22);
}

/** A key id: 160 random bits, base64url (27 characters). */
export function newKid(): string {
  return randomBytes(20).toString('base64url');
}

export function newAspspId(): string {
  return alphanumeric(16);
}

export const idPatterns = {
  organisation: /^[A-Za-z0-9]{18}$/,
  software: /^[A-Za-z0-9]{22}$/,
  kid: /^[A-Za-z0-9_-]{1,64}$/,
} as const;
