// Parsers of CLI option values, shared by every command: one error wording for each kind of mistake.
import { InvalidInputError } from '../model/errors';

/** `--label k=v` / `--output name=path`, repeatable: a map; anything without a key and `=` is refused by flag. */
export function parseKeyValues(values: string[], flag: string, what = 'KEY=VALUE'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1) throw new InvalidInputError(`${flag} takes ${what}, got "${v}"`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** A positive whole number; the error names the option when `flag` is given. */
export function parsePositiveInt(value: string, flag?: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isInteger(n) || n <= 0)
    throw new InvalidInputError(`${flag ? `${flag} takes` : 'expected'} a positive whole number, got "${value}"`);
  return n;
}

export function parsePositiveNumber(value: string, flag?: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidInputError(`${flag ? `${flag} takes` : 'expected'} a positive number, got "${value}"`);
  return n;
}
