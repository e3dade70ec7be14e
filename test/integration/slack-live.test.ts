// One live Slack message per pipeline run, against a local stand-in of the Web API.
import { Status, type StepStatus } from '../../src/model/status';
import { builtinNotifiers } from '../../src/notify/builtin';
import { RedisLiveMessages } from '../../src/notify/notifiers/live-messages';
import { Keys } from '../../src/store/keys';
import { deliveryContext, silent } from '../support/notifiers';
import { stepEventWith } from '../support/events';
import * as path from 'node:path';
import type { Daemon } from '../../src/runtime/daemon';
import { LocalProvider } from '../../src/providers/local/provider';
import { systemClock } from '../../src/util/clock';
import { TrackStore, trackFromRequest } from '../../src/store/tracks';
import { runPipelineText } from '../support/local-runs';
import { startDaemon, testConfig } from '../support/daemon';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis';
import { SlackApiStandIn } from '../support/slack-api';
import { tempDir } from '../support/tmp';
import { untilQuiet } from '../support/quiet';
import { waitFor } from '../support/wait-for';

const redis = testRedis();
const prefix = uniquePrefix('slacklive');
const dataDir = tempDir('slacklive');
const local = new LocalProvider({ root: path.join(dataDir, 'runs') });
const slack = new SlackApiStandIn();
let daemon: Daemon;

function tenSteps(experiment: string, failAt?: number): string {
  const lines = [`experiment: ${experiment}`, 'steps:'];
  for (let i = 0; i < 10; i++) {
    const run = i === failAt ? 'echo "<!channel> boom" >&2; exit 2' : 'sleep 0.2';
    lines.push(`  - { name: s${i}, run: '${run}'${i > 0 ? `, needs: [s${i - 1}]` : ''} }`);
  }
  return lines.join('\n') + '\n';
}

beforeAll(async () => {
  const url = await slack.start();
  daemon = await startDaemon(
    testConfig({
      prefix,
      dataDir,
      extra: {
        notifiers: { live: { type: 'slack', token: 'xoxb-test-token', channel: '#ml-runs', slackApiUrl: url } },
        routes: [{ match: { type: ['steprun.*', 'pipelinerun.*'] }, notify: ['live'] }],
      },
    }),
  );
  const tracks = new TrackStore(redis, daemon.keys, systemClock);
  await tracks.add(trackFromRequest({ provider: 'local', experiment: 'live1' }, 'cli', Date.now() - 1000));
  await tracks.add(trackFromRequest({ provider: 'local', experiment: 'live2' }, 'cli', Date.now() - 1000));
});

afterAll(async () => {
  await daemon.stop();
  await slack.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('live Slack message', () => {
  it('a 10-step pipeline run: one postMessage, then only updates of that message, ending with every step Finished', async () => {
    const run = await runPipelineText(local.store, tenSteps('live1'), path.join(dataDir, 'w1'));
    await waitFor(async () => slack.calls.some((c) => c.method === 'chat.update' && JSON.stringify(c.args).includes('[Finished] pipeline')), {
      timeoutMs: 30_000,
      what: 'the final update',
    });
    const mine = slack.calls.filter((c) => JSON.stringify(c.args).includes(run.pipelineRunId));
    expect(mine.filter((c) => c.method === 'chat.postMessage')).toHaveLength(1);
    expect(mine[0]!.method).toBe('chat.postMessage');
    const updates = mine.filter((c) => c.method === 'chat.update');
    expect(updates.length).toBeGreaterThan(5);
    expect(new Set(updates.map((u) => u.args.ts)).size).toBe(1);
    // What the message ends on, once nothing is left to send and every edit was answered (a late, older edit would show here).
    await untilQuiet(redis, prefix);
    await waitFor(() => slack.inFlight === 0, { what: 'every chat.update answered' });
    const last = JSON.stringify(slack.messages.get(String(updates[0]!.args.ts))!.blocks);
    expect(last).toContain('[Finished] pipeline');
    for (let i = 0; i < 10; i++) expect(last).toContain(`s${i}  Finished`);
  });

  it('a failure’s details go as a reply in the message’s thread, escaped', async () => {
    await runPipelineText(local.store, tenSteps('live2', 3), path.join(dataDir, 'w2'));
    await waitFor(async () => slack.calls.some((c) => c.args.thread_ts !== undefined), { timeoutMs: 30_000, what: 'a thread reply' });
    const reply = slack.calls.find((c) => c.args.thread_ts !== undefined)!;
    const post = slack.posts().find((p) => JSON.stringify(p.args).includes('live2'))!;
    expect(reply.args.text).toContain('&lt;!channel&gt; boom');
    expect(reply.args.text).not.toContain('<!channel>');
    expect(typeof reply.args.thread_ts).toBe('string');
    expect(post).toBeDefined();
  });
});

describe('issue 21 defect 7', () => {
  it('7. the live Slack message can end on an old state', async () => {
    const api = new SlackApiStandIn();
    const notifier = await builtinNotifiers().create(
      { type: 'slack', token: 'xoxb-test-token', channel: '#ml', slackApiUrl: await api.start() },
      {
        name: 'live7',
        dataDir,
        logger: silent,
        providers: new Map(),
        baseDir: process.cwd(),
        services: { liveMessages: (n: string) => new RedisLiveMessages(() => redis, new Keys(prefix), n) },
      },
    );
    const step = (status: StepStatus, previous: StepStatus) => stepEventWith(status, previous, { pipelineRunId: 'stale7', stepRunId: 's7', name: 'train' });
    await notifier.deliver(step(Status.Queued, Status.NotStarted), deliveryContext('d0'));
    // Slack is slow to apply the "Running" edit; the "Finished" edit, decided just after it, is quick.
    api.updateDelayMs = (args) => (JSON.stringify(args.blocks).includes('Running') ? 400 : 0);
    const running = notifier.deliver(step(Status.Running, Status.Queued), deliveryContext('d1'));
    await new Promise((r) => setTimeout(r, 50));
    const finished = notifier.deliver(step(Status.Finished, Status.Running), deliveryContext('d2'));
    await Promise.all([running, finished]);
    const [message] = [...api.messages.values()];
    // What Slack shows at the end is the latest state, whatever order the edits were answered in.
    expect(JSON.stringify(message!.blocks)).toContain('train  Finished');
    await api.close();
  });
});
