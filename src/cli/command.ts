// What every command shares: help with examples, and output as JSON under --json or as text for people.
import type { Command } from 'commander';
import { globalsOf } from './context';
import { printJson, table } from './format';

/** `parent.command(usage)` with its description, and its examples at the end of its help. */
export function defineCommand(parent: Command, usage: string, description: string, ...examples: string[]): Command {
  const heading = examples.length > 1 ? 'Examples' : 'Example';
  return parent
    .command(usage)
    .description(description)
    .addHelpText('after', `\n${heading}:\n${examples.map((e) => `  ${e}`).join('\n')}`);
}

/** Prints `value` as JSON under --json, else the text made from it. */
export function report<T>(cmd: Command, value: T, text: (value: T) => string): void {
  if (globalsOf(cmd).json) return printJson(value);
  process.stdout.write(text(value));
}

/** A column of a list: its header, and the cell of one item. */
export type Columns<T> = Record<string, (item: T) => string>;

/** Prints a list as JSON under --json, else `empty` when there is nothing, else a table of the columns. */
export function reportList<T>(cmd: Command, items: T[], empty: string, columns: Columns<T>): void {
  report(cmd, items, () => {
    if (items.length === 0) return `${empty}\n`;
    const cells = Object.values(columns);
    return table([Object.keys(columns), ...items.map((item) => cells.map((cell) => cell(item)))]);
  });
}

/** `k=v,k2=v2`, or `-` when there is none. */
export function keyValues(pairs: Record<string, string>): string {
  return (
    Object.entries(pairs)
      .map(([k, v]) => `${k}=${v}`)
      .join(',') || '-'
  );
}
