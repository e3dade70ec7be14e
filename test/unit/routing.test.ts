import type { RouteConfig } from '../../src/config/schema';
import { routeEvent } from '../../src/notify/routing';
import type { WatchEvent } from '../../src/watch/events';

const event = (o: Partial<WatchEvent> & { status?: string; step?: string } = {}): WatchEvent => ({
  id: 'e1', type: 'steprun.failed', time: '', detectedAt: 0, trackId: 't', provider: 'local', experiment: 'churn', pipelineRunId: 'p1', labels: { team: 'ml' },
  stepRun: { stepRunId: 's', name: o.step ?? 'train', nodeId: 'n', status: (o.status ?? 'Failed') as never, previousStatus: 'Running', rawStatus: 'Failed', isReused: false, outputNames: [] },
  ...o,
});
const route = (match: RouteConfig['match'], notify: string[]): RouteConfig => ({ match, notify });

describe('routing', () => {
  it('an empty match takes every event', () => {
    expect(routeEvent([route({}, ['a'])], event())).toEqual(['a']);
  });
  it('matches type globs, statuses case-insensitively, experiment and step globs, labels', () => {
    const routes = [
      route({ type: 'steprun.*', status: ['failed'] }, ['oncall']),
      route({ experiment: 'ch*', step: 'tr?in' }, ['mail']),
      route({ labels: { team: 'ml' } }, ['slack']),
      route({ labels: { team: 'web' } }, ['nope']),
      route({ type: 'pipelinerun.*' }, ['nope2']),
    ];
    expect(routeEvent(routes, event())).toEqual(['oncall', 'mail', 'slack']);
  });
  it('names each notifier once even when several routes match', () => {
    expect(routeEvent([route({}, ['a', 'b']), route({ status: 'Failed' }, ['a'])], event())).toEqual(['a', 'b']);
  });
  it('a step pattern never matches an event without a step', () => {
    const pipelineEvent = { ...event(), type: 'pipelinerun.failed' as const, stepRun: undefined };
    expect(routeEvent([route({ step: '*' }, ['a'])], pipelineEvent)).toEqual([]);
  });
});
