// steprun-watch events: print the events stream (the outbox), oldest first.
import type { Command } from 'commander';
import { summarize, type WatchEvent } from '../../store/events';
import { parseEntry } from '../../store/outbox';
import { EventFanout } from '../../store/outbox-tail';
import { createLogger } from '../../util/logger';
import { configOf, globalsOf, withRedis } from '../context';
import { parsePositiveInt } from '../options';
import { defineCommand } from '../command';

export function eventsCommand(program: Command): void {
  defineCommand(program, 'events', 'print the events stream (the outbox), oldest first', 'steprun-watch events --follow --json')
    .option('--follow', 'keep printing new events')
    .option('--limit <n>', 'at most the last N events', (v) => parsePositiveInt(v, '--limit'), 100)
    .action(async (o: { follow?: boolean; limit: number }, cmd: Command) => {
      const config = await configOf(cmd);
      const json = globalsOf(cmd).json;
      const print = (e: WatchEvent): void => void process.stdout.write(json ? JSON.stringify(e) + '\n' : `${e.time}  ${e.type.padEnd(20)} ${summarize(e)}\n`);
      await withRedis(config, async (redis, keys) => {
        const recent = (await redis.xrevrange(keys.events, '+', '-', 'COUNT', o.limit)).reverse();
        for (const [, fields] of recent) {
          const e = parseEntry(fields);
          if (e) print(e);
        }
        if (!o.follow) return;
        // The same tailer as the API's event stream: from the last entry shown, until Ctrl-C.
        const tail = new EventFanout(redis, keys.events, createLogger({ level: 'silent' }));
        await tail.subscribe(
          {
            onEntry: ([, fields]) => {
              const e = parseEntry(fields);
              if (e) print(e);
            },
          },
          recent.at(-1)?.[0],
        );
        await new Promise<void>((resolve) => process.once('SIGINT', resolve));
        await tail.close();
      });
    });
}
