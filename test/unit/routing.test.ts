import type { RouteConfig } from '../../src/config/schema';
import { chooseRoutes } from '../../src/alerts/decide';
import { alertPolicyOf } from '../../src/alerts/policy';
import type { StepStatus } from '../../src/model/status';
import type { WatchEvent } from '../../src/store/events';
import { stepEventFixture } from '../support/events';

const event = (o: Partial<WatchEvent> & { status?: string; step?: string } = {}): WatchEvent =>
  stepEventFixture({ type: 'steprun.failed', trackId: 't', pipelineRunId: 'p1', ...o, status: (o.status ?? 'Failed') as StepStatus });
const route = (match: RouteConfig['match'], notify: string[], extra: Partial<RouteConfig> = {}): RouteConfig => ({
  at: 'routes[0]',
  children: [],
  continue: true,
  matchers: [],
  annotations: {},
  match,
  notify,
  summary: false,
  repeat: false,
  renotify: 'update',
  mute: [],
  activeOnly: [],
  ...extra,
});
/** The notifiers an event goes to, with the route that decides for each (the alert decision's routing). */
const routeEvent = (routes: RouteConfig[], e: WatchEvent, now = Date.now()) =>
  [...chooseRoutes(alertPolicyOf({ notifiers: {}, routes }), e, now)].map(([notifier, c]) => ({ notifier, ...c }));
const names = (targets: { notifier: string }[]) => targets.map((t) => t.notifier);

describe('routing', () => {
  it('an empty match takes every event', () => {
    expect(names(routeEvent([route({}, ['a'])], event()))).toEqual(['a']);
  });
  it('matches type globs, statuses case-insensitively, experiment and step globs, labels', () => {
    const routes = [
      route({ type: 'steprun.*', status: ['failed'] }, ['oncall']),
      route({ experiment: 'ch*', step: 'tr?in' }, ['mail']),
      route({ labels: { team: 'ml' } }, ['slack']),
      route({ labels: { team: 'web' } }, ['nope']),
      route({ type: 'pipelinerun.*' }, ['nope2']),
    ];
    expect(names(routeEvent(routes, event()))).toEqual(['oncall', 'mail', 'slack']);
  });
  it('names each notifier once even when several routes match', () => {
    expect(names(routeEvent([route({}, ['a', 'b']), route({ status: 'Failed' }, ['a'])], event()))).toEqual(['a', 'b']);
  });
  it('a step pattern never matches an event without a step', () => {
    const pipelineEvent = { ...event(), type: 'pipelinerun.failed' as const, stepRun: undefined };
    expect(routeEvent([route({ step: '*' }, ['a'])], pipelineEvent)).toEqual([]);
  });
});

describe('summary routes', () => {
  it('take pipeline events and leave step events alone', () => {
    const routes = [route({}, ['digest'], { summary: true })];
    expect(routeEvent(routes, event())).toEqual([]);
    expect(names(routeEvent(routes, { ...event(), type: 'pipelinerun.failed', stepRun: undefined }))).toEqual(['digest']);
  });
});

describe('quiet periods', () => {
  const quiet = { from: '22:00', to: '07:00', tz: 'UTC' };
  const at = (iso: string) => Date.parse(iso);

  it('hold a non-failure until the window ends', () => {
    const finished = event({ status: 'Finished', type: 'steprun.finished' });
    expect(routeEvent([route({}, ['mail'], { quiet })], finished, at('2026-03-01T23:30:15Z'))).toEqual([
      { notifier: 'mail', route: 0, holdUntil: at('2026-03-02T07:00:00Z') },
    ]);
    expect(routeEvent([route({}, ['mail'], { quiet })], finished, at('2026-03-02T06:59:00Z'))).toEqual([
      { notifier: 'mail', route: 0, holdUntil: at('2026-03-02T07:00:00Z') },
    ]);
  });

  it('let failures through at once', () => {
    expect(routeEvent([route({}, ['mail'], { quiet })], event(), at('2026-03-01T23:30:00Z'))).toEqual([{ notifier: 'mail', route: 0 }]);
  });

  it('do nothing outside the window, and follow the time zone', () => {
    const finished = event({ status: 'Finished', type: 'steprun.finished' });
    expect(routeEvent([route({}, ['mail'], { quiet })], finished, at('2026-03-01T12:00:00Z'))).toEqual([{ notifier: 'mail', route: 0 }]);
    // 23:30 in Seoul is 14:30 UTC.
    expect(routeEvent([route({}, ['mail'], { quiet: { ...quiet, tz: 'Asia/Seoul' } })], finished, at('2026-03-01T14:30:00Z'))).toEqual([
      { notifier: 'mail', route: 0, holdUntil: at('2026-03-01T22:00:00Z') },
    ]);
  });

  it('a notifier also reached by a route without quiet goes at once', () => {
    const finished = event({ status: 'Finished', type: 'steprun.finished' });
    expect(routeEvent([route({}, ['mail'], { quiet }), route({}, ['mail'])], finished, at('2026-03-01T23:30:00Z'))).toEqual([{ notifier: 'mail', route: 1 }]);
  });
});
