// Validates a notifier's options with its own schema; an error names `notifiers.<name>.<field>`, every one at once.
import type { z } from 'zod';
import { issueLines } from '../util/issues';
import { ConfigInvalidError } from '../model/errors';

export function parseOptions<T>(schema: z.ZodType<T>, options: Record<string, unknown>, name: string): T {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  throw new ConfigInvalidError(issueLines(parsed.error, `notifiers.${name}`));
}
