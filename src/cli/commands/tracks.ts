// steprun-watch tracks: list the tracks.
import type { Command } from 'commander';
import { systemClock } from '../../util/clock';
import { describeTarget, TrackStore } from '../../store/tracks';
import { configOf, withRedis } from '../context';
import { defineCommand, keyValues, reportList } from '../command';

export function tracksCommand(program: Command): void {
  defineCommand(program, 'tracks', 'list the tracks', 'steprun-watch tracks --json').action(async (_o, cmd: Command) => {
    const config = await configOf(cmd);
    const tracks = await withRedis(config, (redis, keys) => new TrackStore(redis, keys, systemClock).list());
    reportList(cmd, tracks, 'nothing tracked (add one: steprun-watch track --experiment NAME)', {
      TRACK: (t) => t.id,
      PROVIDER: (t) => t.provider,
      TARGET: (t) => describeTarget(t),
      LABELS: (t) => keyValues(t.labels),
      'NEXT POLL': (t) => (t.nextPollAt ? new Date(t.nextPollAt).toISOString() : '-'),
      FAILURES: (t) => String(t.failures),
    });
  });
}
