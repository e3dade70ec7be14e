// steprun-watch deliveries: recent deliveries and dead letters; `deliveries retry ID|--all-failed` sends dead letters again.
import type { Command } from 'commander';
import { defineCommand, report, reportList } from '../command';
import type { Redis } from 'ioredis';
import { systemClock } from '../../util/clock';
import type { LoadedConfig } from '../../config/load';
import { InvalidInputError } from '../../model/errors';
import { parsePositiveInt } from '../options';
import { DeliveryStore } from '../../store/deliveries';
import { Keys } from '../../store/keys';
import { configOf, withRedis } from '../context';
import { auditedWrite, cliIdentity } from '../audited';

/** With the delivery store; a write (`audit`: what it does) goes in the audit log. */
async function withDeliveries<T>(config: LoadedConfig, fn: (store: DeliveryStore, redis: Redis, keys: Keys) => Promise<T>, audit?: string): Promise<T> {
  const run = (redis: Redis, keys: Keys) => fn(new DeliveryStore(redis, keys), redis, keys);
  return audit ? auditedWrite(config, audit, run) : withRedis(config, run);
}

export function deliveriesCommand(program: Command): void {
  const deliveries = defineCommand(
    program,
    'deliveries',
    'list recent deliveries (status, attempts, last error); --failed lists the dead letters',
    'steprun-watch deliveries --failed',
    'steprun-watch deliveries retry --all-failed',
  )
    .option('--failed', 'only deliveries that failed their last attempt')
    .option('--limit <n>', 'at most N, newest first', (v) => parsePositiveInt(v, '--limit'), 50)
    .action(async (o: { failed?: boolean; limit: number }, cmd: Command) => {
      const config = await configOf(cmd);
      const list = await withDeliveries(config, (store) => store.list({ failedOnly: o.failed, limit: o.limit }));
      reportList(cmd, list, o.failed ? 'no failed deliveries' : 'no deliveries yet', {
        DELIVERY: (d) => d.id,
        NOTIFIER: (d) => d.notifier,
        STATUS: (d) => (d.heldUntil && d.status === 'pending' ? `held until ${new Date(d.heldUntil).toISOString()}` : d.status),
        ATTEMPTS: (d) => String(d.attempts),
        UPDATED: (d) => new Date(d.updatedAt).toISOString(),
        EVENT: (d) => d.summary,
        'LAST ERROR': (d) => d.lastError ?? '',
      });
    });

  defineCommand(
    deliveries,
    'retry [deliveryId]',
    'send a dead-lettered delivery again (the daemon delivers it)',
    'steprun-watch deliveries retry e5f0c2a9d1b3e4f6a7b8c9d0-hook',
    'steprun-watch deliveries retry --all-failed',
  )
    .option('--all-failed', 'every dead letter')
    .action(async (id: string | undefined, o: { allFailed?: boolean }, cmd: Command) => {
      const config = await configOf(cmd);
      if (!id && !o.allFailed) throw new InvalidInputError('give a delivery id or --all-failed');
      const count = await withDeliveries(
        config,
        async (store, redis, keys) => {
          // BullMQ is loaded only here: the other commands start faster without it.
          const [{ deliverQueue }, { retryAllFailed, retryDelivery }] = await Promise.all([
            import('../../store/queues'),
            import('../../notify/deliver/dead-letters'),
          ]);
          const queue = deliverQueue(redis, keys, config.delivery);
          try {
            if (o.allFailed) return await retryAllFailed(store, queue, systemClock.now(), cliIdentity().name);
            await retryDelivery(store, queue, id!, systemClock.now(), cliIdentity().name);
            return 1;
          } finally {
            await queue.close();
          }
        },
        `deliveries retry ${o.allFailed ? '--all-failed' : id!}`,
      );
      report(cmd, { retried: count }, () => `${count} deliver${count === 1 ? 'y' : 'ies'} queued again\n`);
    });
}
