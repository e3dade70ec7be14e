// Notifier templates: a subject/title and a text in Mustache (logic-less: no code runs), over the documented event fields.
import Mustache from 'mustache';
import { z } from 'zod';
import { statusOf, type WatchEvent } from '../../../store/events';
import { factsOf, formatDuration, subjectOf } from './describe';

export interface MessageTemplate {
  subject?: string;
  text?: string;
}

/** `template:` of a notifier; a template that does not parse is refused at start, naming the field. */
export const templateSchema = z.strictObject({ subject: z.string().min(1).optional(), text: z.string().min(1).optional() }).superRefine((t, ctx) => {
  for (const field of ['subject', 'text'] as const) {
    const text = t[field];
    if (text === undefined) continue;
    try {
      Mustache.parse(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: [field], message: `not a valid Mustache template: ${(err as Error).message}` });
    }
  }
});

/**
 * What a template sees: the event as it is (`type`, `experiment`, `pipelineRunId`, `stepRun.name`, `stepRun.error.message`,
 * `stderrTail`, `labels.team`, `links`, ...) plus ready-made words: `subject`, `facts` (a list of `{name, value}`),
 * `duration`, `status`. Documented in docs/CONFIG.md.
 */
export function templateView(e: WatchEvent): Record<string, unknown> {
  return {
    ...e,
    subject: subjectOf(e),
    status: statusOf(e) ?? '',
    duration: formatDuration(e.stepRun?.durationMs ?? e.pipelineRun?.durationMs),
    facts: factsOf(e).map(([name, value]) => ({ name, value })),
  };
}

/** Renders with the target's own escaping (Slack's `&<>`, HTML's, or none for plain text): `{{x}}` is escaped, `{{{x}}}` is not. */
export function renderTemplate(template: string, e: WatchEvent, escape: (text: string) => string = (t) => t): string {
  return Mustache.render(template, templateView(e), undefined, { escape: (value: unknown) => escape(String(value)) });
}
