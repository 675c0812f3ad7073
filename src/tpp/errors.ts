/** A command-line value the TPP tools cannot use; the CLI prints it and exits 2. */
export class TppUsageError extends Error {
  override name = 'TppUsageError';
}
