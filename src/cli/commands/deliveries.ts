// `deliveries`: recent deliveries and dead letters; `deliveries retry ID|--all-failed` sends dead letters again.
import type { Command } from 'commander';
import type { Redis } from 'ioredis';
import { systemClock } from '../../clock';
import type { LoadedConfig } from '../../config/load';
import { InvalidInputError } from '../../model/errors';
import { parsePositiveInt } from '../options';
import { DeliveryStore } from '../../notify/deliveries';
import { Keys } from '../../store/keys';
import { configOf, globalsOf, withRedis } from '../context';
import { printJson, table } from '../format';

async function withDeliveries<T>(config: LoadedConfig, fn: (store: DeliveryStore, redis: Redis, keys: Keys) => Promise<T>): Promise<T> {
  return withRedis(config, (redis, keys) => fn(new DeliveryStore(redis, keys), redis, keys));
}

export function registerDeliveriesCommand(program: Command): void {
  const deliveries = program
    .command('deliveries')
    .description('list recent deliveries (status, attempts, last error); --failed lists the dead letters')
    .option('--failed', 'only deliveries that failed their last attempt')
    .option('--limit <n>', 'at most N, newest first', (v) => parsePositiveInt(v, '--limit'), 50)
    .addHelpText('after', '\nExamples:\n  steprun-watch deliveries --failed\n  steprun-watch deliveries retry --all-failed')
    .action(async (o: { failed?: boolean; limit: number }, cmd: Command) => {
      const config = await configOf(cmd);
      const list = await withDeliveries(config, (store) => store.list({ failedOnly: o.failed, limit: o.limit }));
      if (globalsOf(cmd).json) return printJson(list);
      if (list.length === 0) return void process.stdout.write(o.failed ? 'no failed deliveries\n' : 'no deliveries yet\n');
      process.stdout.write(
        table([
          ['DELIVERY', 'NOTIFIER', 'STATUS', 'ATTEMPTS', 'UPDATED', 'EVENT', 'LAST ERROR'],
          ...list.map((d) => [
            d.id,
            d.notifier,
            d.heldUntil && d.status === 'pending' ? `held until ${new Date(d.heldUntil).toISOString()}` : d.status,
            String(d.attempts),
            new Date(d.updatedAt).toISOString(),
            d.summary,
            d.lastError ?? '',
          ]),
        ]),
      );
    });

  deliveries
    .command('retry [deliveryId]')
    .description('send a dead-lettered delivery again (the daemon delivers it)')
    .option('--all-failed', 'every dead letter')
    .addHelpText('after', '\nExamples:\n  steprun-watch deliveries retry e5f0c2a9d1b3e4f6a7b8c9d0-hook\n  steprun-watch deliveries retry --all-failed')
    .action(async (id: string | undefined, o: { allFailed?: boolean }, cmd: Command) => {
      const config = await configOf(cmd);
      if (!id && !o.allFailed) throw new InvalidInputError('give a delivery id or --all-failed');
      const count = await withDeliveries(config, async (store, redis, keys) => {
        // BullMQ is loaded only here: the other commands start faster without it.
        const [{ deliverQueue }, { retryAllFailed, retryDelivery }] = await Promise.all([import('../../queues'), import('../../notify/dead-letters')]);
        const queue = deliverQueue(redis, keys, config.delivery);
        try {
          if (o.allFailed) return await retryAllFailed(store, queue, systemClock.now());
          await retryDelivery(store, queue, id!, systemClock.now());
          return 1;
        } finally {
          await queue.close();
        }
      });
      if (globalsOf(cmd).json) return printJson({ retried: count });
      process.stdout.write(`${count} deliver${count === 1 ? 'y' : 'ies'} queued again\n`);
    });
}
