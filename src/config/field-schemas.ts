// Small field schemas the config's sections share: names, durations, key fields, glob-or-list values.
import Mustache from 'mustache';
import { z } from 'zod';
import { KEY_FIELDS } from '../store/event-fields';
import { parseDurationMs } from '../util/duration';

export const name = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/, 'letters, digits, "_" or "-" (at most 64)');

export const stringOrList = z.union([z.string(), z.array(z.string())]);

/** `30s`, `5m`, `2h` or a number of seconds; in ms once parsed. */
export const duration = z.union([
  z
    .number()
    .positive()
    .transform((s) => s * 1000),
  z.string().transform((text, ctx) => {
    const ms = parseDurationMs(text);
    if (ms === undefined || ms <= 0) {
      ctx.addIssue({ code: 'custom', message: 'a duration such as 30s, 5m, 2h (or a number of seconds)' });
      return z.NEVER;
    }
    return ms;
  }),
]);

export const keyField = z.string().refine((f) => (KEY_FIELDS as readonly string[]).includes(f) || /^labels\.[A-Za-z0-9_.-]+$/.test(f), {
  message: `one of ${KEY_FIELDS.join(', ')} or labels.NAME`,
});

/** `runbook`, `summary`, `description` (and any other name) -> a Mustache template over the event's fields, parsed here. */
export const annotationsSchema = z.record(
  z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'letters, digits or "_" (runbook, summary, description, ...)'),
  z.string().superRefine((text, ctx) => {
    try {
      Mustache.parse(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `not a valid Mustache template: ${(err as Error).message}` });
    }
  }),
);
