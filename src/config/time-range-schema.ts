// Alertmanager's time intervals as the config writes them: weekly windows of weekdays and times of day, in a time zone.
import { z } from 'zod';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'HH:MM');
const weekday = z
  .string()
  .regex(
    /^(sunday|monday|tuesday|wednesday|thursday|friday|saturday)(:(sunday|monday|tuesday|wednesday|thursday|friday|saturday))?$/i,
    'a weekday or a range of them: monday, monday:friday',
  );

/** Alertmanager's time_intervals: a name -> weekly windows (weekdays, times of day, location). */
export const timeRangeSchema = z.strictObject({
  weekdays: z.array(weekday).min(1).optional(),
  times: z
    .array(z.strictObject({ start: hhmm, end: hhmm }))
    .min(1)
    .optional(),
  location: z.string().default('UTC').refine(validTimeZone, 'an IANA time zone such as Europe/Berlin'),
});

/** An IANA time zone the runtime knows. */
export function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
