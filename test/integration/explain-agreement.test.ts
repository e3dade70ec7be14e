// `routes test` and the dispatcher agree. fast-check draws a route tree (children, continue, Alertmanager matchers;
// grouped or not, held by a time interval, renotify), a silence and a sequence of events; for each event `routes test` (explainRouting) is asked
// first, then the real dispatcher decides, and what it recorded per notifier must be what routes test said.
import fc from 'fast-check';
import { readDecisionState } from '../../src/alerts/decision-state';
import { explainRouting } from '../../src/alerts/explain';
import { deliveryHistory } from '../../src/alerts/history';
import { alertPolicyOf } from '../../src/alerts/policy';
import type { DeliveryRecord } from '../../src/store/deliveries';
import { AlertRig, pipelineEvent, stepEvent } from '../support/alert-rig';

jest.setTimeout(300_000);

/** The outcome a delivery record shows. */
function outcomeOf(d: DeliveryRecord): string {
  if (d.status === 'silenced' || d.status === 'inhibited' || d.status === 'suppressed' || d.status === 'incident') return d.status;
  if (d.heldUntil) return 'held';
  if (d.eventType === 'group') return 'group';
  if (d.reason?.includes('still failing') || d.reason?.includes('live message')) return 'update';
  return 'send';
}

const settings = {
  type: fc.constantFrom(undefined, 'steprun.failed', ['steprun.failed', 'pipelinerun.failed'], 'steprun.*'),
  matcher: fc.constantFrom(undefined, 'step!="eval"', 'step=~"tr.*"', 'type!~"pipelinerun\\..*"', 'step=""'),
  continue: fc.option(fc.boolean(), { nil: undefined }),
  grouped: fc.boolean(),
  muted: fc.boolean(),
  renotify: fc.constantFrom('never', 'update', 'always'),
};
const notifiers = fc.subarray(['pd', 'ce'], { minLength: 1 });
/** A child inherits its parent's notifiers unless it names its own. */
const child = fc.record({ ...settings, notify: fc.option(notifiers, { nil: undefined }) });
const route = fc.record({ ...settings, notify: notifiers, children: fc.array(child, { maxLength: 2 }) });

type Drawn = { type?: string | string[]; matcher?: string; continue?: boolean; grouped: boolean; muted: boolean; renotify: string; notify?: string[] };
const nodeOf = (r: Drawn) => ({
  match: r.type ? { type: r.type } : {},
  ...(r.matcher ? { matchers: [r.matcher] } : {}),
  ...(r.notify ? { notify: r.notify } : {}),
  ...(r.continue !== undefined ? { continue: r.continue } : {}),
  renotify: r.renotify,
  ...(r.grouped ? { group: { wait: 60 } } : {}),
  ...(r.muted ? { mute: ['always'] } : {}),
});

const event = fc.oneof(
  fc.tuple(fc.constantFrom('steprun.failed' as const, 'steprun.finished' as const), fc.constantFrom('train', 'eval')).map(([t, s]) => ({ kind: t, step: s })),
  fc.constant({ kind: 'pipelinerun.failed' as const, step: 'train' }),
);

describe('routes test and the dispatcher agree (property)', () => {
  it('on random routes, silences and events, routes test says what the dispatcher then does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(route, { minLength: 1, maxLength: 3 }),
        fc.option(fc.constantFrom('train', 'eval')),
        fc.array(event, { minLength: 1, maxLength: 5 }),
        async (routes, silenced, events) => {
          const rig = await new AlertRig({
            config: {
              timeIntervals: { always: [{ location: 'UTC' }] },
              routes: routes.map((r) => ({ ...nodeOf(r), ...(r.children.length ? { routes: r.children.map(nodeOf) } : {}) })),
            },
          }).start();
          try {
            if (silenced) await rig.silences.add({ matchers: { step: silenced }, durationMs: 3_600_000 }, rig.clock.now());
            const policy = alertPolicyOf(rig.config);
            let n = 0;
            for (const e of events) {
              const run = `run${++n}`;
              const sent = e.kind === 'pipelinerun.failed' ? pipelineEvent('pipelinerun.failed', run, [e.step]) : stepEvent(e.kind, e.step, run);
              const state = await readDecisionState({ policy, alerts: rig.alerts, silences: rig.silences }, [sent], rig.clock.now());
              const said = explainRouting(policy, state, sent)
                .deliveries.map((d) => [d.notifier, d.outcome])
                .sort();
              await rig.emit(sent);
              await rig.settle();
              const done = (await deliveryHistory(rig.redis, rig.keys, rig.deliveries, policy, sent)).map((d) => [d.notifier, outcomeOf(d)]).sort();
              expect([sent.type, done]).toEqual([sent.type, said]);
            }
          } finally {
            await rig.stop();
          }
        },
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 12), seed: Number(process.env.FC_SEED ?? 2121), endOnFailure: true },
    );
  });
});
