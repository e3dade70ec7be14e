// steprun-watch workers: run only workers (poll and delivery) against the shared Redis: for scaling out.
import type { Command } from 'commander';
import { InvalidInputError } from '../../model/errors';
import { configOf } from '../context';
import { defineCommand } from '../command';

export function workersCommand(program: Command): void {
  defineCommand(program, 'workers', 'run only workers (poll and delivery) against the shared Redis: for scaling out', 'steprun-watch workers --only deliver')
    .option('--only <kind>', 'poll or deliver')
    .action(async (o: { only?: string }, cmd: Command) => {
      if (o.only && o.only !== 'poll' && o.only !== 'deliver') throw new InvalidInputError(`--only takes poll or deliver, not "${o.only}"`);
      const { runDaemon } = await import('../../runtime/run-daemon');
      await runDaemon(await configOf(cmd, { buildsAll: true }), {
        scheduler: false,
        dispatcher: false,
        pollWorkers: o.only !== 'deliver',
        deliverWorkers: o.only !== 'poll',
      });
    });
}
