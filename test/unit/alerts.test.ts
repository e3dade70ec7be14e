// Every alert decision as a pure function, time from a fake clock.
import { alertActionOf, alertKeyOf } from '../../src/alerts/alert-key';
import type { DecisionState } from '../../src/alerts/decide';
import { explainRouting } from '../../src/alerts/explain';
import { alertPolicyOf } from '../../src/alerts/policy';
import { matchersOf, parseMatchers, silenceMatches, type Silence } from '../../src/alerts/silences';
import { repeatDue } from '../../src/alerts/timing';
import { ManualClock } from '../../src/util/clock';
import { validateConfig } from '../../src/config/load';
import type { RouteConfig } from '../../src/config/schema';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { EVENT_TYPES, summarize, type WatchEvent } from '../../src/store/events';
import type { StepStatus } from '../../src/model/status';
import { stepEventFixture } from '../support/events';

const stepEvent = (o: Partial<WatchEvent> & { status?: string; step?: string } = {}): WatchEvent =>
  stepEventFixture({ type: 'steprun.failed', ...o, status: (o.status ?? 'Failed') as StepStatus });
const pipelineEvent = (type: WatchEvent['type'], run: string, name?: string): WatchEvent => ({
  ...stepEvent(),
  type,
  pipelineRunId: run,
  stepRun: undefined,
  pipelineRun: { ...(name ? { name } : {}), status: type === 'pipelinerun.failed' ? 'Failed' : 'Finished', previousStatus: null, rawStatus: '', steps: [] },
});
const routesOf = (routes: unknown[]): RouteConfig[] =>
  validateConfig({ notifiers: { a: { type: 'console' }, b: { type: 'console' } }, routes }, { env: {} }).routes;
/** The decision's state with no alert open: silences and the clock only. */
const stateOf = (now: number, silences: Silence[] = []): DecisionState => ({ now, silences, alert: () => undefined, openAlerts: () => [] });
const explain = (routes: RouteConfig[], silences: Silence[], e: WatchEvent, now: number) =>
  explainRouting(alertPolicyOf({ notifiers: {}, routes }), stateOf(now, silences), e);

describe('keying', () => {
  it('a step alert is the same across runs: provider/experiment/step', () => {
    const run1 = alertKeyOf(stepEvent({ pipelineRunId: 'run1' }));
    const run2 = alertKeyOf(stepEvent({ pipelineRunId: 'run2', type: 'steprun.finished', status: 'Finished' }));
    expect(run1).toBe('local/churn/step/train');
    expect(run2).toBe(run1);
  });

  it('a pipeline alert is keyed on the pipeline name, falling back to the experiment; a watch error on the track', () => {
    expect(alertKeyOf(pipelineEvent('pipelinerun.failed', 'r1', 'nightly'))).toBe('local/churn/pipeline/nightly');
    expect(alertKeyOf(pipelineEvent('pipelinerun.finished', 'r2', 'nightly'))).toBe('local/churn/pipeline/nightly');
    expect(alertKeyOf(pipelineEvent('pipelinerun.failed', 'r1'))).toBe('local/churn/pipeline/churn');
    expect(alertKeyOf({ ...stepEvent(), type: 'track.error', stepRun: undefined })).toBe('track/t1');
    expect(alertKeyOf({ ...stepEvent(), type: 'track.recovered', stepRun: undefined })).toBe('track/t1');
  });

  it('a route may set its own key fields, labels included', () => {
    expect(alertKeyOf(stepEvent(), ['experiment', 'labels.team'])).toBe('churn/ml');
    expect(alertKeyOf(stepEvent(), ['pipelineRunId', 'labels.missing'])).toBe('run1/-');
  });

  it('failures open, the same key ending well resolves, the rest does nothing', () => {
    expect(alertActionOf(stepEvent())).toBe('open');
    expect(alertActionOf(stepEvent({ type: 'steprun.finished', status: 'Finished' }))).toBe('resolve');
    // A cancel says nothing about a failure being fixed: it resolves only an alert that being stuck opened.
    expect(alertActionOf(stepEvent({ type: 'steprun.canceled', status: 'Canceled' }))).toBe('resolve-stuck');
    expect(alertActionOf(stepEvent({ type: 'steprun.stuck', status: 'Running' }))).toBe('open');
    expect(alertActionOf(stepEvent({ type: 'steprun.running', status: 'Running' }))).toBeUndefined();
    expect(alertActionOf(pipelineEvent('pipelinerun.failed', 'r'))).toBe('open');
    expect(alertActionOf(pipelineEvent('pipelinerun.finished', 'r'))).toBe('resolve');
  });
});

describe('silencing', () => {
  const clock = new ManualClock(Date.parse('2026-11-26T10:00:00Z'));
  const silence = (matchers: Record<string, string>, forMs = 2 * 3_600_000): Silence => ({
    id: 's1',
    matchers: matchersOf(matchers),
    startsAt: clock.now(),
    endsAt: clock.now() + forMs,
    comment: '',
    createdAt: clock.now(),
  });

  it('matches when every matcher matches (globs), and only while in force', () => {
    const s = silence({ experiment: 'churn', type: 'steprun.fail*' });
    expect(silenceMatches(s, stepEvent(), clock.now())).toBe(true);
    expect(silenceMatches(s, stepEvent({ experiment: 'other' }), clock.now())).toBe(false);
    expect(silenceMatches(s, pipelineEvent('pipelinerun.failed', 'r'), clock.now())).toBe(false);
    const later = new ManualClock(clock.now());
    later.advance(2 * 3_600_000 - 1);
    expect(silenceMatches(s, stepEvent(), later.now())).toBe(true);
    later.advance(1); // expiry follows the clock: at endsAt it is over
    expect(silenceMatches(s, stepEvent(), later.now())).toBe(false);
  });

  it('matchers on step, status and labels; a field the event lacks never matches', () => {
    expect(silenceMatches(silence({ step: 'tr*', status: 'failed' }), stepEvent(), clock.now())).toBe(false); // status is case-sensitive glob
    expect(silenceMatches(silence({ step: 'tr*', status: 'Failed' }), stepEvent(), clock.now())).toBe(true);
    expect(silenceMatches(silence({ 'labels.team': 'ml' }), stepEvent(), clock.now())).toBe(true);
    expect(silenceMatches(silence({ step: '*' }), pipelineEvent('pipelinerun.failed', 'r'), clock.now())).toBe(false);
  });

  it('--match is parsed and checked by field name', () => {
    expect(parseMatchers('experiment=churn, type=steprun.failed')).toEqual([
      { name: 'experiment', op: '=', value: 'churn' },
      { name: 'type', op: '=', value: 'steprun.failed' },
    ]);
    expect(() => parseMatchers('colour=red')).toThrow(/unknown field "colour"/);
    expect(() => parseMatchers('experiment')).toThrow(/FIELD=VALUE/);
  });
});

describe('routes dry-run', () => {
  const now = Date.parse('2026-11-26T23:30:00Z');
  const routes = routesOf([
    { match: { type: 'steprun.failed', experiment: 'churn' }, notify: ['a'], group: { by: ['pipelineRunId'], wait: '30s' }, repeat: { every: '4h' } },
    { match: { experiment: 'billing' }, notify: ['b'] },
    { match: {}, notify: ['b'], quiet: { from: '22:00', to: '07:00', tz: 'UTC' } },
  ]);

  it('explains a grouped, an unmatched and a quiet-held route', () => {
    const finished = stepEvent({ type: 'steprun.finished', status: 'Finished' });
    const failed = explain(routes, [], stepEvent(), now);
    expect(failed.routes[0]).toMatchObject({ matched: true, group: { by: ['pipelineRunId'], values: ['run1'], waitMs: 30_000 }, repeatEveryMs: 4 * 3_600_000 });
    expect(failed.routes[1]).toMatchObject({ matched: false, why: 'experiment is "churn", the route wants billing' });
    expect(failed.alert).toEqual({ action: 'open', key: 'local/churn/step/train' });
    expect(failed.deliveries.map(({ notifier, outcome }) => ({ notifier, outcome }))).toEqual([
      { notifier: 'a', outcome: 'group' },
      { notifier: 'b', outcome: 'send' }, // failures are never held by quiet hours
    ]);
    const held = explain(routes, [], finished, now);
    expect(held.routes[0]).toMatchObject({ matched: false, why: 'type is "steprun.finished", the route wants steprun.failed' });
    expect(held.routes[2]).toMatchObject({ matched: true, holdUntil: '2026-11-27T07:00:00.000Z' });
    expect(held.deliveries).toEqual([{ notifier: 'b', route: 2, outcome: 'held', reason: 'held until 2026-11-27T07:00:00.000Z (quiet 22:00–07:00)' }]);
  });

  it('explains a silenced event', () => {
    const s: Silence = { id: 's9', matchers: matchersOf({ experiment: 'churn' }), startsAt: now - 1, endsAt: now + 1000, comment: 'quota', createdAt: now };
    const r = explain(routes, [s], stepEvent(), now);
    expect(r.silencedBy).toEqual([{ id: 's9', comment: 'quota', endsAt: new Date(now + 1000).toISOString() }]);
    expect(r.deliveries.every((d) => d.outcome === 'silenced')).toBe(true);
  });
});

describe('route settings', () => {
  it('group, repeat and key are validated, durations read as people write them', () => {
    const [r] = routesOf([{ match: {}, notify: ['a'], group: { wait: '1m' }, repeat: { every: '4h' }, key: ['experiment', 'labels.team'] }]);
    expect(r!.group).toEqual({ by: ['pipelineRunId'], wait: 60_000, interval: 300_000 });
    expect(r!.repeat).toEqual({ every: 4 * 3_600_000 });
    expect(() => routesOf([{ match: {}, notify: ['a'], repeat: { every: 'often' } }])).toThrow(/routes\[0\]\.repeat/);
    expect(() => routesOf([{ match: {}, notify: ['a'], key: ['colour'] }])).toThrow(/routes\[0\]\.key/);
  });
});

describe('repeat timing', () => {
  const clock = new ManualClock(Date.parse('2026-11-26T01:00:00Z'));

  it('the n-th repeat is due every interval after the alert opened', () => {
    const opened = clock.now();
    const every = 4 * 3_600_000;
    clock.advance(every);
    expect(repeatDue(opened, every, clock.now())).toEqual({ n: 1, nextAt: opened + 2 * every });
    clock.advance(every + 5000); // a late tick still counts the repeat it is at, not one more
    expect(repeatDue(opened, every, clock.now())).toEqual({ n: 2, nextAt: opened + 3 * every });
  });
});

describe('issue 21 defect 8', () => {
  it('8. stuck subjects read "running for 0 min (limit 0 min)", and CONFIG.md lists every event type', () => {
    const stuck: WatchEvent = { ...stepEvent({ type: 'steprun.stuck', status: 'Running' }), stuck: { reason: 'running', forMs: 90_000, limitMs: 60_000 } };
    expect(summarize(stuck)).toContain('running for 1m 30s (limit 1m 0s)');
    const config = readFileSync(path.join(__dirname, '../../docs/CONFIG.md'), 'utf8');
    const listed = /Event types:([\s\S]*?)\. A type/.exec(config)![1]!;
    for (const type of EVENT_TYPES) expect([type, listed.includes(`\`${type}\``)]).toEqual([type, true]);
  });
});
