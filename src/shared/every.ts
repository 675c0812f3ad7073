/**
 * Runs `work` every `intervalMs` without keeping the process alive: one run at a time (a run still going when
 * the next is due is not doubled up), a failure handed to `onError` and the next run still coming. Returns
 * the stop.
 */
export function every(
  intervalMs: number,
  work: () => Promise<unknown>,
  onError: (error: unknown) => void = () => undefined,
): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    work()
      .catch(onError)
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
