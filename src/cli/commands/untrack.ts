// steprun-watch untrack <trackId>: stop tracking (the id is shown by `tracks`).
import type { Command } from 'commander';
import { systemClock } from '../../util/clock';
import { TrackNotFoundError } from '../../model/errors';
import { TrackStore } from '../../store/tracks';
import { configOf, withRedis } from '../context';
import { defineCommand, report } from '../command';

export function untrackCommand(program: Command): void {
  defineCommand(program, 'untrack <trackId>', 'stop tracking (the id is shown by `tracks`)', 'steprun-watch untrack t3f9a0c1d2e4b5a6').action(
    async (trackId: string, _o, cmd: Command) => {
      const config = await configOf(cmd);
      const removed = await withRedis(config, (redis, keys) => new TrackStore(redis, keys, systemClock).remove(trackId));
      if (!removed) throw new TrackNotFoundError(trackId);
      report(cmd, { untracked: trackId }, () => `untracked ${trackId}\n`);
    },
  );
}
