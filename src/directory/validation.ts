import { z } from 'zod';
import { DirectoryError } from './errors.ts';

import { obRoles, type ObRole } from '../shared/psd2-roles.ts';

/** Open Banking roles a software statement may hold (src/shared/psd2-roles.ts says what each maps to). */
export { obRoles, type ObRole };

export const certificateTypes = ['transport', 'signing', 'encryption'] as const;
export type CertificateType = (typeof certificateTypes)[number];

export const certificateProfiles = ['obie', 'eidas'] as const;
export type CertificateProfile = (typeof certificateProfiles)[number];

export const softwareModes = ['Test', 'Live'] as const;

/** Largest accepted PEM CSR (a 4096-bit RSA CSR is about 1.7 kB). */
export const maxCsrLength = 16_384;

const text = (label: string, max: number) =>
  z
    .string({ error: `${label} must be a string` })
    .trim()
    .min(1, `${label} must not be empty`)
    .max(max, `${label} must be at most ${max} characters`)
    .refine(
      (value) => ![...value].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f),
      `${label} must not contain control characters`,
    );

function httpsUrl(label: string) {
  return z
    .string({ error: `${label} must be a string` })
    .max(2_000, `${label} must be at most 2000 characters`)
    .superRefine((value, context) => {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        context.addIssue({ code: 'custom', message: `${label} ${JSON.stringify(value)} is not a URL` });
        return;
      }
      if (url.protocol !== 'https:') {
        context.addIssue({
          code: 'custom',
          message: `${label} ${JSON.stringify(value)} must use https (got ${url.protocol.replace(':', '')})`,
        });
      } else if (url.hash !== '' || value.includes('#')) {
        context.addIssue({
          code: 'custom',
          message: `${label} ${JSON.stringify(value)} must not have a fragment`,
        });
      } else if (url.username !== '' || url.password !== '') {
        context.addIssue({
          code: 'custom',
          message: `${label} ${JSON.stringify(value)} must not carry credentials`,
        });
      }
    });
}

const contactSchema = z.strictObject({
  name: text('a contact name', 140),
  email: z.email({ error: 'a contact email must be an email address' }).max(254),
  phone: z
    .string()
    .regex(/^\+?[0-9 ()-]{5,24}$/, 'a contact phone must be digits, optionally with +, spaces, ( ) and -')
    .optional(),
  type: text('a contact type', 40).optional(),
});

export const organisationInputSchema = z.strictObject({
  name: text('the organisation name', 140),
  countryCode: z
    .string()
    .regex(/^[A-Z]{2}$/, 'countryCode must be an ISO 3166-1 alpha-2 code such as GB')
    .default('GB'),
  ncaName: z
    .string()
    .regex(/^[A-Z]{2,8}$/, 'ncaName must be 2 to 8 capital letters, e.g. FCA')
    .default('FCA'),
  ncaId: z
    .string()
    .regex(/^[A-Za-z0-9]{1,32}$/, 'ncaId must be 1 to 32 letters or digits (the authorisation number)')
    .optional(),
  contacts: z.array(contactSchema).max(10, 'at most 10 contacts').default([]),
});

export const softwareInputSchema = z.strictObject({
  clientName: text('clientName', 140),
  description: z.string().trim().max(1_000, 'description must be at most 1000 characters').default(''),
  version: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,32}$/, 'version must be 1 to 32 letters, digits, dots, dashes or underscores')
    .default('1.0'),
  roles: z
    .array(z.string({ error: 'a role must be a string' }))
    .min(1, 'roles must name at least one of AISP, PISP, CBPII, ASPSP')
    .max(4)
    .superRefine((roles, context) => {
      const unknown = roles.filter((role) => !(obRoles as readonly string[]).includes(role));
      if (unknown.length > 0) {
        context.addIssue({
          code: 'custom',
          message: `unknown role${unknown.length > 1 ? 's' : ''} ${unknown.map((r) => JSON.stringify(r)).join(', ')}; allowed: ${obRoles.join(', ')}`,
        });
      } else if (new Set(roles).size !== roles.length) {
        context.addIssue({ code: 'custom', message: 'roles must not repeat' });
      }
    })
    .transform((roles) => roles as ObRole[]),
  redirectUris: z
    .array(httpsUrl('redirect URI'))
    .min(1, 'redirectUris must list at least one https URL')
    .max(20, 'at most 20 redirect URIs'),
  clientUri: httpsUrl('clientUri').optional(),
  logoUri: httpsUrl('logoUri').optional(),
  policyUri: httpsUrl('policyUri').optional(),
  tosUri: httpsUrl('tosUri').optional(),
  mode: z.enum(softwareModes, { error: 'mode must be "Test" or "Live"' }).default('Test'),
});

const csr = (label: string) =>
  z
    .string({ error: `${label} must be a PEM certificate signing request` })
    .min(1, `${label} must not be empty`)
    .max(maxCsrLength, `${label} is longer than ${maxCsrLength} characters`);

export const onboardingInputSchema = z.strictObject({
  organisation: organisationInputSchema,
  software: softwareInputSchema,
  certificateProfile: z
    .enum(certificateProfiles, { error: 'certificateProfile must be "obie" or "eidas"' })
    .default('obie'),
  csrs: z.strictObject({
    transport: csr('csrs.transport'),
    signing: csr('csrs.signing'),
    encryption: csr('csrs.encryption').optional(),
  }),
});

export const certificateRequestSchema = z.strictObject({
  type: z.enum(certificateTypes, { error: 'type must be "transport", "signing" or "encryption"' }),
  csr: csr('csr'),
});

export const aspspInputSchema = z.strictObject({
  name: text('name', 140),
  discoveryUrl: httpsUrl('discoveryUrl').refine(
    (value) => !URL.canParse(value) || new URL(value).pathname.endsWith('/.well-known/openid-configuration'),
    'discoveryUrl must end with /.well-known/openid-configuration',
  ),
});

export type OrganisationInput = z.infer<typeof organisationInputSchema>;
export type SoftwareInput = z.infer<typeof softwareInputSchema>;
export type OnboardingInput = z.infer<typeof onboardingInputSchema>;
export type CertificateRequestInput = z.infer<typeof certificateRequestSchema>;

/** Parses `value` with `schema`, or throws a 400 naming every problem with its path. */
export function parseInput<T extends z.ZodType>(
  schema: T,
  value: unknown,
  what = 'the request body',
): z.output<T> {
  if (value === undefined || value === null)
    throw DirectoryError.badRequest(`${what} is missing (send JSON)`);
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw DirectoryError.badRequest(`${what} must be a JSON object (content-type application/json)`);
  }
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path
      .map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`))
      .join('');
    const where = path.replace(/^\./, '');
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`
        : issue.code === 'invalid_type' && issue.input === undefined
          ? 'is required'
          : issue.message;
    return where ? `${where}: ${message}` : message;
  });
  throw DirectoryError.badRequest(problems.join('; '));
}
