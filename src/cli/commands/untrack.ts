// steprun-watch untrack <trackId>: stop tracking (the id is shown by `tracks`); the track's own alert is resolved.
import type { Command } from 'commander';
import { systemClock } from '../../util/clock';
import { TrackNotFoundError } from '../../model/errors';
import { TrackStore } from '../../store/tracks';
import { AlertStore } from '../../alerts/alert-store';
import { untrack } from '../../alerts/untrack';
import { configOf } from '../context';
import { auditedWrite } from '../audited';
import { defineCommand, report } from '../command';

export function untrackCommand(program: Command): void {
  defineCommand(program, 'untrack <trackId>', 'stop tracking (the id is shown by `tracks`)', 'steprun-watch untrack t3f9a0c1d2e4b5a6').action(
    async (trackId: string, _o, cmd: Command) => {
      const config = await configOf(cmd);
      const removed = await auditedWrite(config, `untrack ${trackId}`, (redis, keys) =>
        untrack(new TrackStore(redis, keys, systemClock), new AlertStore(redis, keys), trackId, systemClock.now()),
      );
      if (!removed) throw new TrackNotFoundError(trackId);
      report(cmd, { untracked: trackId }, () => `untracked ${trackId}\n`);
    },
  );
}
