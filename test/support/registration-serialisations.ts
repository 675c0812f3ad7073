/**
 * How many times `clientId`'s registration went through `JSON.stringify` while `run` ran: oidc-provider's
 * `Client.find` serialises (and hashes) the registration the adapter gives it to find, or build, its client,
 * so a count of 0 means the kept built client was served. A registration is told from other objects naming the
 * client by `field`, one only a stored registration has.
 */
export async function registrationSerialisations(
  clientId: string,
  field: string,
  run: () => Promise<unknown>,
): Promise<number> {
  const stringify = JSON.stringify;
  let serialised = 0;
  JSON.stringify = ((value: unknown, ...rest: [never, never]) => {
    if (
      typeof value === 'object' &&
      value !== null &&
      (value as { client_id?: unknown }).client_id === clientId &&
      field in value
    )
      serialised += 1;
    return stringify(value, ...rest);
  }) as typeof JSON.stringify;
  try {
    await run();
  } finally {
    JSON.stringify = stringify;
  }
  return serialised;
}
