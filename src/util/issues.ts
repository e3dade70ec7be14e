// One wording for validation errors everywhere (config, notifier and provider options, API bodies): `field: message`.
import type { z } from 'zod';

/**
 * Every issue of a zod error as `prefix.field: message`, one string each. A value that matches no branch of a union
 * (`repeat: false | {every}`) is said by the branch it came closest to, down to its field (`repeat.every: a duration
 * such as 30s`), not as zod's bare "Invalid input".
 */
export function issueLines(error: z.ZodError, prefix = ''): string[] {
  return specific(error.issues).map((issue) => {
    const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    const name = `${prefix}${field}`.replace(/^\./, '');
    return `${name || '(root)'}: ${issue.message}`;
  });
}

type Issue = z.core.$ZodIssue;

/** Union issues replaced by the issues of their closest branch, paths joined. */
function specific(issues: readonly Issue[]): Issue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union' || !issue.errors?.length) return [issue];
    const branches = issue.errors.map((branch) => specific(branch));
    const best = branches.reduce((a, b) => (closeness(b) > closeness(a) ? b : a));
    if (closeness(best) === 0) return [issue];
    return best.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }));
  });
}

/** How far a branch got: its deepest issue, a message of the schema's own (custom) counting a little more. */
function closeness(branch: Issue[]): number {
  return Math.max(0, ...branch.map((i) => i.path.length * 2 + (i.code === 'custom' ? 1 : 0)));
}
