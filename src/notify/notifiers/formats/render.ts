// Safe rendering: text taken from runs (errors, stderr, step names) made harmless for each target, and cut with "+N more".

/** Slack mrkdwn: `&`, `<`, `>` escaped, so `<!channel>` or `<@U123>` in an error pings no one (Slack's own rule). */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A Slack code block that stays one block whatever the text holds: a run of backticks inside is broken up. */
export function slackCodeBlock(text: string, maxChars: number): string {
  const body = slackEscape(text).replace(/`{3,}/g, (m) => m.split('').join('\u200b'));
  return '```' + cutTail(body, maxChars - 6) + '```';
}

export function htmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * Lines kept from the start while they fit `maxChars` (joined with `\n`); when some do not fit, the last line
 * says how many were left out: "+N more". Never cuts a line in half.
 */
export function fitLines(lines: string[], maxChars: number, more = (n: number) => `+${n} more`): string {
  const kept: string[] = [];
  let size = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const note = more(lines.length - i);
    // Keep room for the note unless this is the last line.
    const room = i === lines.length - 1 ? maxChars : maxChars - note.length - 1;
    if (size + line.length + (kept.length ? 1 : 0) > room) {
      kept.push(note);
      return kept.join('\n');
    }
    kept.push(line);
    size += line.length + (kept.length > 1 ? 1 : 0);
  }
  return kept.join('\n');
}

/** The end of a long text (stderr: the last lines matter), with a first line saying how much was cut. */
export function cutTail(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const dropped = text.slice(0, text.length - maxChars + 40);
  const lines = dropped.split('\n').length - 1;
  const note = `… +${lines > 0 ? `${lines} more lines` : `${dropped.length} more characters`} above`;
  let tail = text.slice(text.length - (maxChars - note.length - 1));
  const nl = tail.indexOf('\n');
  if (nl >= 0 && nl < tail.length - 1) tail = tail.slice(nl + 1);
  return `${note}\n${tail}`;
}

/** A short single line (a title): cut with an ellipsis. */
export function cutLine(text: string, maxChars: number): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length <= maxChars ? one : `${one.slice(0, maxChars - 1)}…`;
}

/** Bytes of a JSON body as it will be sent. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}
