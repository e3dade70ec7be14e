// The Lua commands as a whole: each has a test in this folder, refusals share one shape, stores use the Scripts they
// are handed, and a Redis that lost its scripts is sent them again.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ScriptErrorCode, Scripts } from '../../../src/store/scripts';
import { TrackStore, trackFromRequest } from '../../../src/store/tracks';
import { systemClock } from '../../../src/util/clock';
import { T, scriptRig } from '../../support/script-rig';

const { redis, keys, scripts } = scriptRig('scripts');

it('every Lua command has a test in this folder', () => {
  const names = readdirSync(path.join(__dirname, '../../../src/store/commands')).map((f) => f.replace(/-\d+\.lua$/, ''));
  const tests = readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => readFileSync(path.join(__dirname, f), 'utf8'))
    .join('\n');
  expect(names.length).toBeGreaterThan(10);
  for (const name of names) expect([name, tests.includes(`describe('${name}'`)]).toEqual([name, true]);
});

it('the stores use the Scripts they are handed: the composition root’s one', async () => {
  // A Scripts that counts what it is asked: the store's writes go through it, not one of its own.
  const asked: string[] = [];
  const counting = new Proxy(new Scripts(redis, keys), {
    get: (target, name, receiver) => {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (asked.push(String(name)), (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  const tracks = new TrackStore(redis, keys, systemClock, counting);
  await tracks.add(trackFromRequest({ provider: 'local', pipelineRun: 'handed-in' }, 'cli', Date.now()));
  expect(asked).toEqual(['addTrack']);
});

it('every script that can refuse answers one shape: an array whose first element is a ScriptErrorCode', async () => {
  const refusing = readdirSync(path.join(__dirname, '../../../src/store/commands'))
    .map((f) => readFileSync(path.join(__dirname, '../../../src/store/commands', f), 'utf8'))
    .flatMap((lua) => [...lua.matchAll(/^\s*return ([{]?\s*-\d.*)$/gm)].map((m) => m[1]!.trim()));
  expect(refusing.length).toBeGreaterThan(2);
  for (const ret of refusing) expect(ret).toMatch(new RegExp(`^\\{${ScriptErrorCode.TrackGone}\\b`));
  // The raw reply of a refusal, as Redis sends it.
  const raw = await redis.eval(
    readFileSync(path.join(__dirname, '../../../src/store/commands/addPipelineTracks-5.lua'), 'utf8'),
    5,
    keys.seen('gone'),
    keys.tracks,
    keys.due('local'),
    keys.track('gone'),
    keys.failing,
    T,
    0,
    T,
    T,
    keys.track(''),
    'gone',
    0,
  );
  expect(raw).toEqual([ScriptErrorCode.TrackGone]);
});

describe('after Redis lost its scripts (a restart, a new node)', () => {
  it('each call sends the script again, once, and works', async () => {
    await redis.script('FLUSH');
    expect(await scripts.casAppend({ hash: keys.state('t1'), field: 'f', expected: '', next: '1|Running', eventJson: '{"id":"x"}' })).toBe(true);
    await redis.script('FLUSH');
    await scripts.ensureDeliveries([{ id: 'd9', fields: { notifier: 'hook' } }], T, { recent: 10, finalMs: 86_400_000 });
    expect(await redis.hget(keys.delivery('d9'), 'status')).toBe('pending');
  });
});
