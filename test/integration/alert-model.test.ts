// A model-based test of the alert features together. fast-check draws sequences of step failures and
// successes, flaps (a failure recovering around a group's flush), silences added and expired, repeat ticks, group
// waits elapsing, restarts of the daemon's processes, a killed delivery worker and Redis restarting; the real dispatcher, BullMQ
// worker, Redis and HTTP receivers (AlertRig) run them, and a small model of the alerts checks what each receiver saw:
//   - the pager (issue 36) holds open exactly the incident groups with a firing alert (open and not silenced now),
//     each under its group's one key, acknowledged exactly when all its firing alerts are (acknowledgements given and
//     taken back, incidents resolved by hand in PagerDuty are commands too) — pointed at the release before, this
//     fails at once: it held one key per alert, and an acknowledgement never reached the pager;
//   - per (notifier, alert key) the CloudEvents receiver's last word matches the alert's state (open: a page;
//     resolved: a resolve, or nothing if it was never told);
//   - nothing is paged while a silence covers it (a pager's trigger never lists an alert silenced all along);
//   - at most one page per open alert per notifier, besides repeats;
//   - nothing is lost: an alert open and never silenced was paged to each notifier; one silenced for a while and not
//     now was told, whether its route repeats or not (pointed at the release before, this fails: only repeats told it).
// `npm test` runs a fixed seed and 12 sequences (~40 s), a third with each webhook route (repeating, not, grouped by run);
// `npm run test:fuzz` runs more (FC_RUNS, FC_SEED).
import fc from 'fast-check';
import { AlertRig, type Message } from '../support/alert-rig';
import { alertCommands, covered, Expire, keyOf, Silence, STEPS, type Model, type Real } from '../support/alert-model';
import { freePort, PrivateRedis } from '../support/redis';
import { tempDir } from '../support/tmp';
import { incidentKeyOf } from '../../src/alerts/incident';
import { groupId } from '../../src/store/ids';

jest.setTimeout(600_000);

// A Redis of this test's own, which the RestartRedis command stops and starts (with every write in its append-only file).
let redis: PrivateRedis;
beforeAll(async () => {
  redis = new PrivateRedis(await freePort(), tempDir('alert-model'));
  await redis.start();
});
afterAll(async () => {
  await redis.stop();
});

/**
 * Every invariant, once the rig has settled (group waits and resolves that wait for their page included) and a
 * minute has passed on the daemon's clock (a group changed by no event, a silence ending, is looked at again then).
 */
async function checkInvariants(m: Model, r: Real, silencedPages: Message[]): Promise<void> {
  await r.settle(3000, 30_000);
  r.clock.advance(61_000);
  await r.repeatTick(); // the scheduler's tick: what a silence kept away is told now
  await r.settle(3000, 30_000);
  const messages = r.messages();
  expect(silencedPages).toEqual([]);
  // The pager (issue 36): its open incidents are exactly the groups with a firing alert (open, not silenced now),
  // acknowledged exactly when every firing alert of the group is.
  const expected = new Map<string, 'triggered' | 'acknowledged'>();
  const allAcked = new Map<string, boolean>();
  for (const step of STEPS) {
    const run = m.pdGroup.get(keyOf(step));
    if (!run || !m.open.has(keyOf(step)) || covered(m, step)) continue;
    const key = incidentKeyOf(groupId(0, 'pd', [run]));
    allAcked.set(key, (allAcked.get(key) ?? true) && m.acked.has(keyOf(step)));
    expected.set(key, allAcked.get(key) ? 'acknowledged' : 'triggered');
  }
  const holds = r.pagerHolds().open;
  expect(Object.fromEntries([...holds].sort())).toEqual(Object.fromEntries([...expected].sort()));
  for (const notifier of ['ce']) {
    for (const step of STEPS) {
      const key = keyOf(step);
      const mine = messages.filter((x) => x.notifier === notifier && x.key === key);
      const last = mine.at(-1)?.kind;
      const state = m.open.get(key);
      if (!state) expect([notifier, key, last]).not.toEqual([notifier, key, 'page']);
      else if (!state.silencedSinceOpen) {
        // Open and never silenced: the receiver was paged, and its last word is not a resolve.
        expect([notifier, key, mine.some((x) => x.kind === 'page')]).toEqual([notifier, key, true]);
        expect([notifier, key, last]).not.toEqual([notifier, key, 'resolve']);
      } else if (!covered(m, step) && !state.ackedSinceOpen) {
        // Open, silenced for a while, not now (issue 36): the receiver was told, repeats or not ("still failing since").
        expect([notifier, key, last === 'page' || last === 'update']).toEqual([notifier, key, true]);
      }
      // At most one page per opening (between resolves), besides repeats.
      let pages = 0;
      for (const x of mine) {
        if (x.kind === 'resolve') pages = 0;
        else if (x.kind === 'page' && !x.repeat && !isRepeat(r, x)) pages++;
        expect([notifier, key, pages <= 1]).toEqual([notifier, key, true]);
      }
    }
  }
}

/** Triggers the pager got since `from` that list as firing an alert a silence covered all along (never allowed). */
function silencedTriggers(r: Real, from: number, silenced: Set<string>): Message[] {
  return r.pd.received
    .slice(from)
    .filter((x) => x.status < 300)
    .map((x) => x.json as { event_action: string; dedup_key: string; payload?: { custom_details?: { firing?: { key: string }[] } } })
    .filter((b) => b.event_action === 'trigger' && (b.payload?.custom_details?.firing ?? []).some((f) => silenced.has(f.key)))
    .map((b) => ({ notifier: 'pd', kind: 'trigger' as const, key: b.dedup_key, deliveryId: '', at: 0 }));
}

/** A PagerDuty repeat carries no marker in its body: its delivery id says it. */
function isRepeat(_r: Real, m: Message): boolean {
  return /-repeat\d+$/.test(m.deliveryId);
}

const ran: number[] = [];
const RUNS = Number(process.env.FC_RUNS ?? 12);
const SEED = Number(process.env.FC_SEED ?? 21021);

describe('the alert features composed (model-based)', () => {
  // The webhook's route with and without repeats, half the runs each: a silence that ends must tell it either way.
  it.each([
    ['repeats', { repeat: { every: 15 } }],
    ['does not repeat', {}],
    ['is grouped by run', { group: { by: ['pipelineRunId'], wait: 0.4, interval: 0.5 } }],
  ])(
    'random sequences of failures, successes, silences, repeat ticks, restarts, a killed worker and Redis restarting keep every invariant (the ' +
      'webhook route %s)',
    async (_, ceRoute) => {
      const ranBefore = ran.length;
      await fc.assert(
        fc.asyncProperty(fc.commands(alertCommands(redis), { maxCommands: 14, size: 'max' }), async (cmds) => {
          const rig = await new AlertRig({
            redisUrl: redis.url,
            config: {
              routes: [
                { match: { type: ['steprun.failed', 'pipelinerun.failed'] }, notify: ['pd'], group: { wait: 0.4, interval: 0.5 }, repeat: { every: 15 } },
                // Mail and webhooks with and without repeats: a silence that ends tells them either way.
                { match: { type: ['steprun.failed', 'pipelinerun.failed'] }, notify: ['ce'], ...ceRoute },
              ],
            },
          }).start();
          const model: Model = { run: 0, open: new Map(), pdGroup: new Map(), silences: [], acked: new Set() };
          // A page received while a silence covered its key (checked as messages arrive, by the model's silences).
          const silencedPages: Message[] = [];
          try {
            for (const cmd of cmds) {
              if (!cmd.check(model)) continue;
              const before = rig.messages().length;
              const pdBefore = rig.pd.received.length;
              const silencedBefore = new Set(model.silences.flatMap((s) => (s.step ? [keyOf(s.step)] : STEPS.map(keyOf))));
              await cmd.run(model, rig);
              if (!(cmd instanceof Silence) && !(cmd instanceof Expire)) {
                for (const x of rig.messages().slice(before)) {
                  if (x.notifier === 'ce' && (x.kind === 'page' || x.kind === 'update') && silencedBefore.has(x.key)) silencedPages.push(x);
                }
                // Silences only added or expired between commands: one in force all along the command covers its alerts.
                silencedPages.push(...silencedTriggers(rig, pdBefore, silencedBefore));
              }
            }
            await checkInvariants(model, rig, silencedPages);
            // And once every silence has ended: what they kept away is told to every receiver, and paged.
            while (model.silences.length) await new Expire().run(model, rig);
            await checkInvariants(model, rig, []);
            ran.push([...cmds].length);
          } finally {
            await rig.stop();
          }
        }),
        { numRuns: Math.ceil(RUNS / 3), seed: SEED, endOnFailure: true },
      );
      // Not a vacuous run: sequences of several commands were played.
      expect(ran.slice(ranBefore).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(Math.ceil(RUNS / 3) * 3);
    },
  );
});
