// Small CLI defects, each tried as a user would type it.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { cli } from '../support/cli';
import { REDIS_URL, uniquePrefix, dropPrefix } from '../support/redis';
import { tempDir } from '../support/tmp';

const dir = tempDir('cli-small');
const env = { SRW_DATA_DIR: path.join(dir, 'data') };

describe('13. small ones', () => {
  it.each([['events'], ['deliveries']])('%s --limit takes a positive whole number (exit 4, the option named)', async (command) => {
    for (const bad of ['abc', '0', '-5']) {
      const r = await cli([command, '--limit', bad], { env });
      expect({ bad, code: r.code }).toEqual({ bad, code: 4 });
      expect(r.stderr).toContain('--limit');
    }
  });

  it('run --json and exec --json: stdout is the JSON alone, the steps’ own output goes to stderr', async () => {
    const work = path.join(dir, 'json');
    await fs.mkdir(work, { recursive: true });
    await fs.writeFile(path.join(work, 'p.yaml'), 'experiment: js\nsteps:\n  - { name: a, run: "echo step-says-hello" }\n');
    const run = await cli(['run', path.join(work, 'p.yaml'), '--json'], { env });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'Finished' });
    expect(run.stderr).toContain('step-says-hello');
    const exec = await cli(['exec', '--experiment', 'js', '--step', 'b', '--json', '--', 'echo', 'exec-says-hello'], { env, cwd: work });
    expect(exec.code).toBe(0);
    expect(JSON.parse(exec.stdout)).toMatchObject({ status: 'Finished', exitCode: 0 });
    expect(exec.stderr).toContain('exec-says-hello');
  });

  it('untrack --json prints JSON', async () => {
    const added = await cli(['track', '--experiment', 'untrack-json', '--json'], { env });
    const id = JSON.parse(added.stdout).id as string;
    const r = await cli(['untrack', id, '--json'], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ untracked: id });
  });

  it('an existing download names the --overwrite flag', async () => {
    const work = path.join(dir, 'dl');
    await fs.mkdir(path.join(work, 'out'), { recursive: true });
    const exec = await cli(['exec', '--experiment', 'dl', '--step', 's', '--output', 'm=out/m.txt', '--json', '--', 'sh', '-c', 'echo v1 > out/m.txt'], {
      env,
      cwd: work,
    });
    const { stepRunId } = JSON.parse(exec.stdout) as { stepRunId: string };
    const dest = path.join(work, 'dest');
    expect((await cli(['download', stepRunId, 'm', dest], { env })).code).toBe(0);
    await fs.writeFile(path.join(dest, 'm.txt'), 'changed\n');
    const again = await cli(['download', stepRunId, 'm', dest], { env });
    expect(again.code).toBe(4);
    expect(again.stderr).toContain('--overwrite');
  });

  it('demo --config X uses X, and exits non-zero when the daemon saw nothing', async () => {
    const prefix = uniquePrefix('demoX');
    const redis = new Redis(REDIS_URL);
    try {
      // A tick that never comes in the test's time, and no change hints: the daemon polls nothing, so it sees nothing.
      const file = path.join(dir, 'demo-x.yaml');
      const poll = 'poll: { tick: "0 0 0 1 1 *", hints: { enabled: false } }';
      await fs.writeFile(file, `redis: { prefix: ${prefix} }\n${poll}\napi: { listen: "127.0.0.1:0" }\n`);
      const r = await cli(['demo', '--config', file, '--timeout', '3'], { env: { SRW_DATA_DIR: path.join(dir, 'demo-data') }, timeoutMs: 60_000 });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('did not report');
      expect(r.stdout).toContain(file);
      // X's prefix is where the demo tracked its experiment.
      expect(await redis.exists(`{${prefix}}:tracks`)).toBe(1);
    } finally {
      await dropPrefix(redis, prefix);
      redis.disconnect();
    }
  });
});

describe('on-call commands (issue 11)', () => {
  it('silence add / list / expire, and routes test explains a silenced, a grouped and an unmatched event', async () => {
    const prefix = uniquePrefix('oncall-cli');
    const redis = new Redis(REDIS_URL);
    const file = path.join(dir, 'oncall.yaml');
    await fs.writeFile(
      file,
      [
        `redis: { prefix: ${prefix} }`,
        'notifiers: { console: { type: console }, mail: { type: email, to: a@b.c } }',
        'routes:',
        '  - { match: { type: steprun.failed }, notify: [mail], group: { by: [pipelineRunId], wait: 30s } }',
        '  - { match: { experiment: billing }, notify: [console] }',
      ].join('\n') + '\n',
    );
    const e = { ...env, SRW_CONFIG: file };
    try {
      const added = await cli(
        ['silence', 'add', '--match', 'experiment=churn,type=steprun.failed', '--for', '2h', '--comment', 'known quota issue', '--json'],
        { env: e },
      );
      expect(added.code).toBe(0);
      const silence = JSON.parse(added.stdout) as { id: string; endsAt: number };
      expect(silence.endsAt - Date.now()).toBeGreaterThan(2 * 3_600_000 - 60_000);
      const listed = await cli(['silence', 'list'], { env: e });
      expect(listed.stdout).toMatch(new RegExp(`${silence.id}\\s+active\\s+experiment=churn,type=steprun.failed`));

      const event = path.join(dir, 'failed.json');
      await fs.writeFile(
        event,
        JSON.stringify({ id: 'e1', type: 'steprun.failed', experiment: 'churn', pipelineRunId: 'run7', stepRun: { name: 'train', status: 'Failed' } }),
      );
      const explained = await cli(['routes', 'test', event], { env: e });
      expect(explained.code).toBe(0);
      expect(explained.stdout).toContain('routes[0] MATCHED -> mail');
      expect(explained.stdout).toContain('grouped by pipelineRunId=run7');
      expect(explained.stdout).toContain('routes[1] no match -> console: experiment is "churn", the route wants billing');
      expect(explained.stdout).toContain(`silenced by ${silence.id}`);
      expect(explained.stdout).toContain('mail (silenced)');

      expect((await cli(['silence', 'expire', silence.id], { env: e })).code).toBe(0);
      expect((await cli(['silence', 'list'], { env: e })).stdout).toMatch(new RegExp(`${silence.id}\\s+expired`));
      const after = await cli(['routes', 'test', event, '--json'], { env: e });
      expect(JSON.parse(after.stdout).deliveries).toEqual([
        { notifier: 'mail', route: 0, outcome: 'group', reason: 'grouped by pipelineRunId (sent 30s after the first)' },
      ]);
      const unknown = await cli(['silence', 'expire', 'snope'], { env: e });
      expect(unknown.code).toBe(3);
      const missing = await cli(['routes', 'test', '--event-id', 'enope'], { env: e });
      expect(missing.code).toBe(3);
      expect(missing.stderr).toContain('SRW_EVENT_NOT_FOUND');
      expect((await cli(['alerts'], { env: e })).stdout).toContain('no open alerts');
    } finally {
      await dropPrefix(redis, prefix);
      redis.disconnect();
    }
  });
  it('routes test --tree prints the route tree and the path an event takes', async () => {
    const file = path.join(dir, 'tree.yaml');
    await fs.writeFile(
      file,
      [
        `redis: { prefix: ${uniquePrefix('tree-cli')} }`,
        'notifiers: { console: { type: console }, mail: { type: email, to: a@b.c }, pager: { type: console } }',
        'routes:',
        '  - { match: {}, notify: [console] }',
        '  - matchers: [\'experiment=~"ch.*"\']',
        '    notify: [pager]',
        '    routes:',
        '      - { matchers: ["step=report"], notify: [mail] }',
        '      - { matchers: ["step!=report"], continue: true }',
        '      - { match: {}, notify: [mail] }',
      ].join('\n') + '\n',
    );
    const event = path.join(dir, 'tree-event.json');
    await fs.writeFile(event, JSON.stringify({ id: 'e2', type: 'steprun.failed', experiment: 'churn', stepRun: { name: 'train', status: 'Failed' } }));
    const tree = await cli(['routes', 'test', '--tree', event], { env: { ...env, SRW_CONFIG: file } });
    expect(tree.code).toBe(0);
    expect(tree.stdout).toBe(
      [
        '* routes[0] -> console',
        '+ routes[1] -> pager',
        '  - routes[1].routes[0] -> mail',
        '  * routes[1].routes[1] -> pager',
        '  * routes[1].routes[2] -> mail',
        'taken by: routes[0], routes[1].routes[1], routes[1].routes[2]',
        '(* takes it, + matched and passed on to a child, - not matched or not reached)',
        '',
      ].join('\n'),
    );
  });
});
