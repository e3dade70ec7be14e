// One wording for validation errors everywhere (config, notifier and provider options, API bodies): `field: message`.
import type { z } from 'zod';

/** Every issue of a zod error as `prefix.field: message`, one string each. */
export function issueLines(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((issue) => {
    const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    const name = `${prefix}${field}`.replace(/^\./, '');
    return `${name || '(root)'}: ${issue.message}`;
  });
}
