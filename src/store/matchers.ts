// Matchers in Alertmanager's syntax — `experiment="churn"`, `step!=report`, `experiment=~"nightly-.*"`,
// `labels.team!~"ml|data"` — for routes, inhibition rules and silences. Pure: parsing, printing, matching a value.
//
// As in Alertmanager, a field the event lacks is the empty string, and `=~`/`!~` are anchored regular expressions.
// Unlike it, the value of `=`/`!=` may be a glob (`train*`, `?` one character): a value without `*` or `?` is plain
// equality, so every Alertmanager matcher means the same here; a glob, as before, matches only a field the event has
// (`step=*` takes step events, not pipeline ones), so the globs written before keep their meaning.
import { InvalidInputError } from '../model/errors';
import { MATCH_FIELDS } from './event-fields';
import { suggest } from '../util/suggest';

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
}

/** A matcher that cannot be parsed or names a field events do not have; the message says which and why. */
export class MatcherSyntaxError extends InvalidInputError {}

/** Whether `name` is a field a matcher may name: one of MATCH_FIELDS or `labels.NAME`. */
export function isMatchField(name: string): boolean {
  return (MATCH_FIELDS as readonly string[]).includes(name) || /^labels\.[A-Za-z0-9_.-]+$/.test(name);
}

/** One matcher: `name op value`, the value bare or double-quoted (with `\"` and `\\` escapes). */
export function parseMatcher(text: string): Matcher {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/.exec(text);
  if (!m) throw new MatcherSyntaxError(`"${text}" is not a matcher: FIELD=VALUE, FIELD!=VALUE, FIELD=~REGEX or FIELD!~REGEX`);
  const [, name, op, raw] = m as unknown as [string, string, MatchOp, string];
  if (!isMatchField(name)) {
    throw new MatcherSyntaxError(`unknown field "${name}"${suggest(name, MATCH_FIELDS)} (known: ${MATCH_FIELDS.join(', ')}, labels.NAME)`);
  }
  const value = unquote(raw, text);
  if (op === '=~' || op === '!~') regexOf(value, text);
  return { name, op, value };
}

/**
 * A list as amtool and the CLI write it: `a=b,c!~"x|y"` or `{a="b", c=~"d"}`; commas inside quotes belong to the
 * value. Empty input is an empty list.
 */
export function parseMatcherList(text: string): Matcher[] {
  const body = text.trim().replace(/^\{([\s\S]*)\}$/, '$1');
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\' && quoted) {
      current += c + (body[i + 1] ?? '');
      i++;
    } else if (c === '"') {
      quoted = !quoted;
      current += c;
    } else if (c === ',' && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  if (quoted) throw new MatcherSyntaxError(`"${text}": a quote is not closed`);
  parts.push(current);
  return parts.filter((p) => p.trim() !== '').map(parseMatcher);
}

/** As people write it: the value bare unless it must be quoted (empty, or with a comma, quote, brace or space). */
export function shortMatcher(m: Matcher): string {
  return /^[^\s,"{}\\]+$/.test(m.value) ? `${m.name}${m.op}${m.value}` : formatMatcher(m);
}

/** Alertmanager's way of writing it back: the value always quoted. */
export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.op}"${m.value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Whether the matcher holds for a field's value (undefined: the event lacks the field, which is the empty string). */
export function matcherHolds(m: Matcher, value: string | undefined): boolean {
  const v = value ?? '';
  switch (m.op) {
    case '=':
      return globMatches(m.value, value);
    case '!=':
      return !globMatches(m.value, value);
    case '=~':
      return regexOf(m.value).test(v);
    case '!~':
      return !regexOf(m.value).test(v);
  }
}

/** A glob matches only a field the event has (`step=*`: step events); plain equality compares with "" as Alertmanager does. */
function globMatches(glob: string, value: string | undefined): boolean {
  if (value === undefined) return glob === '';
  return globOf(glob).test(value);
}

function unquote(raw: string, text: string): string {
  if (!raw.startsWith('"')) {
    if (raw.includes('"')) throw new MatcherSyntaxError(`"${text}": a value with a quote is written in quotes, the quote escaped (\\")`);
    return raw;
  }
  let value = '';
  for (let i = 1; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '\\' && i + 1 < raw.length) value += raw[++i];
    else if (c === '"') {
      if (i !== raw.length - 1) throw new MatcherSyntaxError(`"${text}": text after the closing quote`);
      return value;
    } else value += c;
  }
  throw new MatcherSyntaxError(`"${text}": a quote is not closed`);
}

// Patterns come from config and silences (few, long-lived): each is compiled once.
const compiled = new Map<string, RegExp>();
const MAX_COMPILED = 10_000;

function remember(key: string, make: () => RegExp): RegExp {
  let re = compiled.get(key);
  if (!re) {
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    re = make();
    compiled.set(key, re);
  }
  return re;
}

/** `*` is any run of characters, `?` one character; everything else is literal. */
export function globOf(glob: string): RegExp {
  return remember(
    `g${glob}`,
    () =>
      new RegExp(
        `^${glob
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
        's',
      ),
  );
}

/** An anchored regular expression, as Alertmanager anchors them; one that does not compile says so. */
function regexOf(source: string, text?: string): RegExp {
  return remember(`r${source}`, () => {
    try {
      return new RegExp(`^(?:${source})$`, 's');
    } catch (err) {
      throw new MatcherSyntaxError(
        `${text ? `"${text}": ` : ''}/${source}/ is not a regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`,
      );
    }
  });
}
