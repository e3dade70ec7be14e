// Time intervals, as Alertmanager's: named sets of weekly windows (weekdays, times of day, in a time zone) that routes
// refer to with `mute` (held while inside) and `activeOnly` (held while outside). Pure: time is passed in.

/** One window: every listed part must hold; an absent part holds always. */
export interface TimeRange {
  /** `monday`, `monday:friday` (a range, which may wrap: `saturday:sunday`). */
  weekdays?: string[];
  /** `HH:MM` to `HH:MM` (end excluded; `22:00`–`06:00` wraps midnight). */
  times?: { start: string; end: string }[];
  /** IANA time zone the weekdays and times are read in. */
  location: string;
}

export type TimeIntervals = Record<string, TimeRange[]>;

export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The weekday (0 = Sunday) and minute of the day at `now` in `tz`. */
function localTime(now: number, tz: string): { weekday: number; minute: number } {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'long', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(tz, f);
  }
  const parts = f.formatToParts(new Date(now));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return { weekday: WEEKDAYS.indexOf(get('weekday').toLowerCase() as (typeof WEEKDAYS)[number]), minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

function minuteOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** `monday:friday` -> [1..5]; a single name -> [n]. Unknown names are refused by the config schema. */
export function weekdaysOf(spec: string): number[] {
  const [from, to = from] = spec.toLowerCase().split(':') as [string, string?];
  const a = WEEKDAYS.indexOf(from as (typeof WEEKDAYS)[number]);
  const b = WEEKDAYS.indexOf(to as (typeof WEEKDAYS)[number]);
  const days: number[] = [];
  for (let d = a; ; d = (d + 1) % 7) {
    days.push(d);
    if (d === b || days.length === 7) return days;
  }
}

export function rangeHolds(r: TimeRange, now: number): boolean {
  const { weekday, minute } = localTime(now, r.location);
  if (r.weekdays && !r.weekdays.some((spec) => weekdaysOf(spec).includes(weekday))) return false;
  if (!r.times) return true;
  return r.times.some(({ start, end }) => {
    const [s, e] = [minuteOf(start), minuteOf(end)];
    return s <= e ? minute >= s && minute < e : minute >= s || minute < e;
  });
}

/** Whether any window of the interval holds at `now`. */
export function intervalActive(ranges: TimeRange[], now: number): boolean {
  return ranges.some((r) => rangeHolds(r, now));
}

/** A week and a day: every weekly window has changed state within this. */
const HORIZON_MS = 8 * 86_400_000;

/**
 * The first whole minute after `now` at which `holds(t)` becomes false; undefined when it never does within eight days
 * (a window that always holds). Minute steps: windows are set in whole minutes.
 */
export function holdsUntil(holds: (t: number) => boolean, now: number): number | undefined {
  const start = now - (now % 60_000) + 60_000;
  for (let t = start; t <= now + HORIZON_MS; t += 60_000) if (!holds(t)) return t;
  return undefined;
}

/** The daily `quiet` window of a route as a time range (quiet is one kind of time interval). */
export function quietRange(q: { from: string; to: string; tz: string }): TimeRange {
  return { times: [{ start: q.from, end: q.to }], location: q.tz };
}
