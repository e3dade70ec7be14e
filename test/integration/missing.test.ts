// A nightly pipeline that never started raises one experiment.missing at the deadline, resolved when a run starts.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { alertActionOf, alertKeyOf } from '../../src/alerts/alert-key';
import { ManualClock } from '../../src/util/clock';
import { LocalProvider } from '../../src/providers/local/provider';
import { Keys } from '../../src/store/keys';
import { MissingWatch, nextLocalTime, runMissing } from '../../src/watch/missing';
import { pollTrack } from '../../src/watch/poll';
import { TrackStore, trackFromRequest } from '../../src/store/tracks';
import { execStep } from '../support/local-runs';
import { pollDeps } from '../support/poll';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';
import { outboxEvents } from '../support/outbox';

const redis = testRedis();
const prefix = uniquePrefix('missing');
const keys = new Keys(prefix);
const dataDir = tempDir('missing');
const local = new LocalProvider({ root: path.join(dataDir, 'runs') });
const DAY = 86_400_000;

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('deadlines (pure)', () => {
  it('the next 07:00 in Europe/Berlin, across daylight saving', () => {
    expect(new Date(nextLocalTime(Date.parse('2026-11-26T10:00:00Z'), '07:00', 'Europe/Berlin')).toISOString()).toBe('2026-11-27T06:00:00.000Z');
    expect(new Date(nextLocalTime(Date.parse('2026-11-26T05:00:00Z'), '07:00', 'Europe/Berlin')).toISOString()).toBe('2026-11-26T06:00:00.000Z');
    expect(new Date(nextLocalTime(Date.parse('2026-03-28T12:00:00Z'), '07:00', 'Europe/Berlin')).toISOString()).toBe('2026-03-29T05:00:00.000Z');
    expect(new Date(nextLocalTime(Date.parse('2026-11-26T10:00:00Z'), '07:00', 'UTC')).toISOString()).toBe('2026-11-27T07:00:00.000Z');
  });

  it('a run is missing when none started in the window before the deadline', () => {
    const e = { everyMs: DAY, by: '07:00', tz: 'UTC' };
    const deadline = Date.parse('2026-11-27T07:00:00Z');
    expect(runMissing(e, deadline, Date.parse('2026-11-26T23:00:00Z'))).toBe(false);
    expect(runMissing(e, deadline, Date.parse('2026-11-26T06:59:00Z'))).toBe(true);
    expect(runMissing(e, deadline, 0)).toBe(true);
  });
});

describe('experiment.missing', () => {
  it('fires once at the deadline (fake clock, real Redis), not again for the next empty window, and resolves when a run starts', async () => {
    const t0 = Date.now();
    const clock = new ManualClock(t0);
    const missing = new MissingWatch(redis, keys);
    const deps = { ...pollDeps(redis, keys, new Map([['local', local]])), clock, missing };
    const track = trackFromRequest({ provider: 'local', experiment: 'nightly2', expect: { everyMs: DAY, by: '07:00', tz: 'Europe/Berlin' } }, 'config', t0);
    await new TrackStore(redis, keys, clock).add(track);
    await pollTrack(deps, track.id); // the first poll schedules the first check
    const deadline = nextLocalTime(t0, '07:00', 'Europe/Berlin');
    expect(Number(await redis.zscore(keys.expect, track.id))).toBe(deadline);

    clock.set(deadline - 1000);
    expect(await missing.raiseDue(clock.now())).toBe(0);
    clock.set(deadline + 1000);
    expect(await missing.raiseDue(clock.now())).toBe(1);
    expect(await missing.raiseDue(clock.now())).toBe(0);
    clock.set(deadline + DAY + 1000); // still nothing the next day: the alert is open already, no second page
    expect(await missing.raiseDue(clock.now())).toBe(0);

    const work = path.join(dataDir, 'w');
    await fs.mkdir(work, { recursive: true });
    await execStep(local.store, { experiment: 'nightly2', step: 'train', script: 'true', cwd: work });
    await pollTrack(deps, track.id);
    const events = (await outboxEvents(redis, keys)).filter((e) => e.type.startsWith('experiment.'));
    expect(events.map((e) => e.type)).toEqual(['experiment.missing', 'experiment.resumed']);
    expect(events[0]!.missing).toMatchObject({ deadline: new Date(deadline).toISOString(), by: '07:00 Europe/Berlin' });
    expect(alertActionOf(events[0]!)).toBe('open');
    expect(alertActionOf(events[1]!)).toBe('resolve');
    expect(alertKeyOf(events[1]!)).toBe(alertKeyOf(events[0]!));
  });
});
