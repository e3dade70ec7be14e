// The fields of an event that configuration may name — alert keys, silence and inhibition matchers — and the glob
// matching their values take. Beside the event types, below every stage that uses them (config, alerts, notify).

/** Fields a route's `key:` may list; their values, joined by `/`, make the alert key. */
export const KEY_FIELDS = ['provider', 'experiment', 'step', 'pipeline', 'pipelineRunId', 'trackId', 'type'] as const;
export type KeyField = (typeof KEY_FIELDS)[number] | `labels.${string}`;

/** Fields a matcher (silences, inhibition rules) may name (values are globs: `train*`), besides `labels.NAME`. */
export const MATCH_FIELDS = ['type', 'status', 'experiment', 'pipeline', 'pipelineRunId', 'step', 'provider', 'trackId'] as const;

/** `*` is any run of characters, `?` one character; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}
