// When grouped and repeated notifications go out (pure; the Lua scripts apply the same rules inside Redis).

/**
 * Alertmanager's group_wait and group_interval: a new generation of a group is sent `wait` after its first
 * event, but no sooner than `interval` after the group's previous notification.
 */
export function groupFlushAt(o: { now: number; waitMs: number; intervalMs: number; lastFlushedAt?: number }): number {
  return Math.max(o.now + o.waitMs, (o.lastFlushedAt ?? 0) + o.intervalMs);
}

/** Which repeat of an alert opened at `openedAt` is due at `now` (1 = the first), and when the next one is. */
export function repeatDue(openedAt: number, everyMs: number, now: number): { n: number; nextAt: number } {
  const n = Math.max(1, Math.floor((now - openedAt) / everyMs));
  return { n, nextAt: openedAt + (n + 1) * everyMs };
}
