// Durations as people write them in configs and flags: `90s`, `15m`, `2h`, `7d` (and combinations like `1h30m`).
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;

/** Milliseconds of a duration such as `2h` or `1h30m`; undefined when the text is not one. */
export function parseDurationMs(text: string): number | undefined {
  const t = text.trim();
  if (!DURATION.test(t)) return undefined;
  let total = 0;
  for (const [, n, unit] of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)) total += Number(n) * UNIT_MS[unit!]!;
  return total;
}

/**
 * `--since` of an experiment track: `all` (every run ever), a duration back from `now` (`2h`, `7d`), or an
 * ISO time. Returns the time in ms, or undefined when the text is none of these.
 */
export function parseSince(text: string, now: number): number | undefined {
  if (text.trim() === 'all') return 0;
  const back = parseDurationMs(text);
  if (back !== undefined) return Math.max(0, now - back);
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  return Number.isFinite(at) ? at : undefined;
}

export const SINCE_HELP = '`all`, a duration back from now (90s, 15m, 2h, 7d) or an ISO time';

/** `850 ms`, `42s`, `3m 5s`, `2h 10m`: a duration as people read it. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
