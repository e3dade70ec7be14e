// A config that cannot work is refused whole, with every error at once, and nothing lingers.
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { cli } from '../support/cli';
import { tempDir } from '../support/tmp';

const dir = tempDir('config-errors');
const env = { SRW_DATA_DIR: path.join(dir, 'data') };

async function configFile(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, text);
  return file;
}

describe('4. a route that can never match is refused, and ping validates as the daemon does', () => {
  it('ping reports every error of the config at once and exits 4', async () => {
    const file = await configFile(
      'bad.yaml',
      `
poll: { tick: "not a cron" }
notifiers:
  hook: { type: webhook, url: "http://127.0.0.1:9/x", format: slak }
  mail2: { type: email, to: a@b.c, colour: red }
routes:
  - match: { type: steprun.fail }
    notify: [hook]
  - match: { status: [Faild] }
    notify: [mail2]
`,
    );
    const r = await cli(['ping', '--config', file], { env });
    expect(r.code).toBe(4);
    expect(r.stdout).not.toContain('config ok');
    expect(r.stderr).toContain('poll.tick');
    expect(r.stderr).toContain('notifiers.hook.format');
    expect(r.stderr).toContain('notifiers.mail2');
    expect(r.stderr).toContain('colour');
    expect(r.stderr).toContain('routes[0].match.type');
    expect(r.stderr).toContain('did you mean "steprun.failed"');
    expect(r.stderr).toContain('routes[1].match.status');
    expect(r.stderr).toContain('did you mean "Failed"');
  });

  it('globs are checked against the known event types; good patterns pass', async () => {
    const bad = await configFile('glob.yaml', `routes:\n  - match: { type: "pipline.*" }\n    notify: [console]\n`);
    const r = await cli(['ping', '--config', bad], { env });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('routes[0].match.type: "pipline.*" matches no event type');
    const good = await configFile('glob-ok.yaml', `routes:\n  - match: { type: ["pipelinerun.*", "steprun.f*"], status: failed }\n    notify: [console]\n`);
    const ok = await cli(['ping', '--config', good], { env });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
  });
});

describe('5. a start-up error exits with its code after closing what was opened', () => {
  it('an invalid cron tick: exit 4, no zombie', async () => {
    const file = await configFile('tick.yaml', `poll: { tick: "* * * * * * *" }\napi: { listen: "127.0.0.1:0" }\n`);
    const r = await cli(['daemon', '--config', file], { env, timeoutMs: 20000 });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('poll.tick');
  });

  it('an api.listen that is taken: exit 4, no zombie', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const file = await configFile('listen.yaml', `api: { listen: "127.0.0.1:${port}" }\n`);
      const r = await cli(['daemon', '--config', file], { env, timeoutMs: 20000 });
      expect(r.code).toBe(4);
      expect(r.stderr).toContain('api.listen');
    } finally {
      blocker.close();
    }
  });

  it('a Redis that does not answer: exit 5, no zombie', async () => {
    const r = await cli(['daemon'], { env: { ...env, REDIS_URL: 'redis://127.0.0.1:1' }, timeoutMs: 30000 });
    expect(r.code).toBe(5);
  });
});

// Config errors came in phases and some said too little — `repeat: {every: 4 hours}` said only
// "Invalid input", notifier errors lacked the file, a JSON syntax error gave a position, `ping` printed the unknown
// notifier type twice, and a module provider whose create() threw said "unexpected error".
describe('15. every config error names its file, its field and what is expected, once', () => {
  it('a repeat with a bad duration names routes[0].repeat.every and the format', async () => {
    const file = await configFile('repeat.yaml', 'notifiers: { c: { type: console } }\nroutes:\n  - { match: {}, notify: [c], repeat: { every: 4 hours } }\n');
    const r = await cli(['ping', '--config', file], { env });
    expect([r.code, r.stderr]).toEqual([4, expect.stringContaining(`${file}: routes[0].repeat.every:`)]);
    expect(r.stderr).toMatch(/routes\[0\]\.repeat\.every: .*30s/);
    expect(r.stderr).not.toContain('Invalid input');
  });

  it('a notifier option error and an unknown notifier type name the file, each once', async () => {
    const file = await configFile(
      'notifier.yaml',
      'notifiers:\n  hook: { type: webhook, url: 12 }\n  odd: { type: carrier-pigeon }\nroutes:\n  - { match: {}, notify: [hook, odd] }\n',
    );
    const r = await cli(['ping', '--config', file], { env });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`${file}: notifiers.hook.url`);
    expect(r.stderr.split('unknown notifier type "carrier-pigeon"').length - 1).toBe(1);
    expect(r.stderr).toContain(`${file}: notifiers.odd.type`);
  });

  it('a notifier option error is said with the schema errors, not after they are fixed', async () => {
    const file = await configFile(
      'phases.yaml',
      'poll: { minIntervalSeconds: -1 }\nnotifiers:\n  hook: { type: webhook, url: 12 }\nroutes:\n  - { match: {}, notify: [hook] }\n',
    );
    const r = await cli(['ping', '--config', file], { env });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`${file}: poll.minIntervalSeconds`);
    expect(r.stderr).toContain(`${file}: notifiers.hook.url`);
  });

  it('a JSON syntax error says the line and column', async () => {
    const file = await configFile('broken.json', '{\n  "notifiers": {\n    "c": { "type": "console" },\n  }\n}\n');
    const r = await cli(['ping', '--config', file], { env });
    expect([r.code, r.stderr]).toEqual([4, expect.stringMatching(/broken\.json: .*line 4,? column 3/)]);
  });

  it('a module provider whose create() throws is a config error naming the provider', async () => {
    const plugin = path.join(dir, 'throwing-provider.js');
    await fs.writeFile(plugin, "exports.create = () => { throw new Error('workspace id missing'); };\n");
    const file = await configFile('module.yaml', `providers:\n  mine: { type: module, module: ${JSON.stringify(plugin)} }\n`);
    const r = await cli(['ping', '--config', file], { env });
    expect([r.code, r.stderr]).toEqual([4, expect.stringContaining('providers.mine: workspace id missing')]);
    expect(r.stderr).not.toContain('unexpected error');
  });

  it('a provider option error is said with the schema errors, not after they are fixed', async () => {
    const plugin = path.join(dir, 'throwing-provider-2.js');
    await fs.writeFile(plugin, "exports.create = () => { throw new Error('workspace id missing'); };\n");
    const file = await configFile(
      'phases-provider.yaml',
      `poll: { minIntervalSeconds: -1 }\nproviders:\n  mine: { type: module, module: ${JSON.stringify(plugin)} }\n`,
    );
    const r = await cli(['ping', '--config', file], { env });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`${file}: poll.minIntervalSeconds`);
    expect(r.stderr).toContain(`${file}: providers.mine: workspace id missing`);
  });
});
