// Waits on a condition with a deadline: tests never sleep a fixed time, except where time itself is the subject
// (timePasses says so at the call).
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}

/**
 * Lets `ms` pass, for the few tests whose subject is time itself: a repeat period that must bring nothing, the length of
 * an outage, a chaos window. `why` names it, so that no such wait hides a condition a test should wait for instead.
 */
export async function timePasses(ms: number, why: string): Promise<void> {
  if (!why) throw new Error('timePasses needs the reason time is the subject');
  await new Promise((r) => setTimeout(r, ms));
}
