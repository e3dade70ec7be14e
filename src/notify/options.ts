// Validates a notifier's options with its own schema; an error names `notifiers.<name>.<field>`.
import type { z } from 'zod';
import { ConfigInvalidError } from '../model/errors';

export function parseOptions<T>(schema: z.ZodType<T>, options: Record<string, unknown>, name: string): T {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  throw new ConfigInvalidError(`notifiers.${name}${field}: ${issue.message}`);
}
