/**
 * The Dynamic Client Registration specification files (specs/ob-dcr) `/register` answers to: v3.3, whose
 * bodies it writes, and v3.4, whose requests it accepts too (`application_type` `native`, checks/
 * application-type.ts). The API docs list exactly these.
 */
export const DCR_SPECS: readonly string[] = [
  'ob-dcr/v3.3/client-registration-openapi.json',
  'ob-dcr/v3.4/client-registration-openapi.json',
];
