// When repeats go out (pure). When a group flushes is decided inside Redis, by addToGroup-1.lua and
// joinIncident-3.lua (tested there, in test/integration/scripts/): no copy of that rule lives here.

/** Which repeat of an alert opened at `openedAt` is due at `now` (1 = the first), and when the next one is. */
export function repeatDue(openedAt: number, everyMs: number, now: number): { n: number; nextAt: number } {
  const n = Math.max(1, Math.floor((now - openedAt) / everyMs));
  return { n, nextAt: openedAt + (n + 1) * everyMs };
}
