// The dashboard's Events page: what an alert.resolved row says, and times with their zone (issue 38, item 16).
// the Events page showed alert.resolved rows with no step and no detail, and times without a time
// zone. A resolve names its step and says which alert resolved, after how long and by what; every time says UTC.
import type { Daemon } from '../../src/runtime/daemon';
import { startDaemon, testConfig } from '../support/daemon';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis';
import { tempDir } from '../support/tmp';

const redis = testRedis();
const prefix = uniquePrefix('uievents');
let daemon: Daemon;

beforeAll(async () => {
  daemon = await startDaemon(testConfig({ prefix, dataDir: tempDir('uievents') }));
});
afterAll(async () => {
  await daemon.stop();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

it('an alert.resolved row names its step and what resolved, after how long, by which run; times say UTC', async () => {
  const resolved = {
    id: 'r-ui-1',
    type: 'alert.resolved',
    time: '2026-12-07T02:30:00.000Z',
    detectedAt: Date.parse('2026-12-07T02:30:00.000Z'),
    trackId: 't',
    provider: 'local',
    experiment: 'E',
    pipelineRunId: 'run2',
    labels: {},
    alert: {
      key: 'local/E/step/train',
      openedAt: '2026-12-07T02:14:00.000Z',
      openedBy: 'e1',
      openedType: 'steprun.failed',
      openedSummary: 'train failed',
      resolvedBy: 'e9',
      resolvedRun: 'run2',
      durationMs: 16 * 60_000,
      notifiers: [],
    },
  };
  await redis.xadd(daemon.keys.events, '*', 'event', JSON.stringify(resolved));
  const page = await (await fetch(`${daemon.apiUrl}/ui/events`)).text();
  const row = page.slice(page.indexOf('<tr data-event'), page.indexOf('</tr>', page.indexOf('<tr data-event')));
  expect(row).toContain('2026-12-07 02:30:00 UTC');
  expect(row).toContain('<td>train</td>');
  expect(row).toContain('local/E/step/train resolved after 16m');
  expect(row).toContain('by run run2');
});
