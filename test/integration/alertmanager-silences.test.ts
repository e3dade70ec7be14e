// The daemon's Alertmanager silence API (api/alertmanager-silences.ts), driven by Debian's real amtool: silences made
// with amtool are the daemon's own (they silence its events, its CLI and API list them), the daemon's own are read by
// amtool, expiring works both ways, the token is required, and a matcher on a field events lack is refused by name.
import type { Daemon } from '../../src/runtime/daemon';
import { SilenceStore } from '../../src/alerts/silences';
import { amtool, binary, NOT_INSTALLED } from '../support/alertmanager';
import { startDaemon, testConfig } from '../support/daemon';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';

const TOKEN = 'am-silence-test-token-0123456789abcdef';
const redis = testRedis();
const prefix = uniquePrefix('amsil');
const dataDir = tempDir('amsil');
let daemon: Daemon;
let url = '';
const am = (...args: string[]) => amtool(url, args, { token: TOKEN, dir: dataDir });
const api = async (method: string, path: string, body?: unknown) =>
  fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
const failure = (experiment: string, step: string) => ({
  id: `ev-${experiment}-${step}`,
  type: 'steprun.failed',
  experiment,
  stepRun: { name: step, status: 'Failed' },
});
const silencedBy = async (experiment: string, step: string): Promise<string[]> =>
  ((await (await api('POST', '/routes/test', { event: failure(experiment, step) })).json()) as { silencedBy: { id: string }[] }).silencedBy.map((s) => s.id);

if (!binary('amtool')) console.warn(`alertmanager-silences.test.ts: not run: ${NOT_INSTALLED}`);
const describeWithAmtool = binary('amtool') ? describe : describe.skip;

describeWithAmtool('amtool against the daemon', () => {
  beforeAll(async () => {
    daemon = await startDaemon(testConfig({ prefix, dataDir, extra: { api: { listen: '127.0.0.1:0', token: TOKEN } } }));
    url = daemon.apiUrl!;
  });
  afterAll(async () => {
    await daemon?.stop();
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  it('amtool silence add makes a silence of the daemon: its events are silenced, its own list has it', async () => {
    const added = await am('silence', 'add', 'experiment=churn', 'step!=report', '--comment=deploy of the feature store', '--duration=2h', '--author=jane');
    expect(added).toMatchObject({ code: 0, stderr: '' });
    const id = added.stdout.trim();
    const own = await new SilenceStore(redis, daemon.keys).get(id);
    expect(own).toMatchObject({
      matchers: [
        { name: 'experiment', op: '=', value: 'churn' },
        { name: 'step', op: '!=', value: 'report' },
      ],
      comment: 'deploy of the feature store',
      // With the shared bootstrap token, the name amtool sends is kept, marked as unproven.
      createdBy: 'jane (api-token)',
    });
    expect(own.endsAt - own.startsAt).toBeGreaterThan(2 * 3_600_000 - 5_000);
    expect(await silencedBy('churn', 'train')).toEqual([id]);
    expect(await silencedBy('churn', 'report')).toEqual([]);
    expect(await silencedBy('billing', 'train')).toEqual([]);
  });

  it("amtool silence query reads the daemon's own silences, regexes and negations included, and filters them", async () => {
    const made = await api('POST', '/silences', { match: 'experiment=~"nightly-.*",labels.team!~"web|data"', for: '1h', comment: 'from the API' });
    expect(made.status).toBe(201);
    const { silence } = (await made.json()) as { silence: { id: string } };
    const query = await am('silence', 'query', '-o', 'json');
    expect(query.code).toBe(0);
    const listed = JSON.parse(query.stdout) as { id: string; matchers: unknown[]; status: { state: string } }[];
    expect(listed.find((s) => s.id === silence.id)).toMatchObject({
      status: { state: 'active' },
      matchers: [
        { name: 'experiment', value: 'nightly-.*', isRegex: true, isEqual: true },
        { name: 'labels.team', value: 'web|data', isRegex: true, isEqual: false },
      ],
    });
    expect(listed).toHaveLength(2);
    const filtered = JSON.parse((await am('silence', 'query', '-o', 'json', 'experiment=churn')).stdout) as { comment: string }[];
    expect(filtered.map((s) => s.comment)).toEqual(['deploy of the feature store']);
  });

  it('amtool silence expire ends it at the daemon; the events it silenced go through again', async () => {
    const [churn] = (await new SilenceStore(redis, daemon.keys).list(Date.now())).filter((s) => s.comment.startsWith('deploy'));
    expect(await am('silence', 'expire', churn!.id)).toMatchObject({ code: 0 });
    expect(await silencedBy('churn', 'train')).toEqual([]);
    const expired = JSON.parse((await am('silence', 'query', '--expired', '-o', 'json')).stdout) as { id: string; status: { state: string } }[];
    expect(expired.find((s) => s.id === churn!.id)?.status.state).toBe('expired');
  });

  it('a matcher on a field events do not have is refused with the field; nothing is made', async () => {
    const before = (await new SilenceStore(redis, daemon.keys).list(Date.now())).length;
    const refused = await am('silence', 'add', 'experimnt=churn', '--comment=typo', '--duration=1h');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/unknown field "experimnt" \(did you mean "experiment"\?\)/);
    expect(
      (
        await api('POST', '/api/v2/silences', {
          matchers: [{ name: 'step', value: '(x', isRegex: true }],
          startsAt: new Date().toISOString(),
          endsAt: new Date(Date.now() + 60_000).toISOString(),
          comment: 'x',
          createdBy: 'me',
        })
      ).status,
    ).toBe(400);
    expect((await new SilenceStore(redis, daemon.keys).list(Date.now())).length).toBe(before);
  });

  it('without the token amtool is refused', async () => {
    const refused = await amtool(url, ['silence', 'query'], { dir: dataDir });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/401|nauthori/);
  });
});
