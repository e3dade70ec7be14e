// The route tree (config/route-schema.ts, alerts/routing.ts): Alertmanager's walk, inheritance, the paths errors
// name, and that flat lists — the example configs among them — keep the meaning they had.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { matchingRoutes, routeMatches, visitRoutes } from '../../src/alerts/routing';
import { ConfigInvalidError } from '../../src/model/errors';
import { loadConfig, validateConfig } from '../../src/config/load';
import type { RouteConfig } from '../../src/config/schema';
import type { WatchEvent } from '../../src/store/events';
import { pipelineFailedEvent, stepEventFixture } from '../support/events';
import { EXAMPLE_ENV } from '../support/example-env';

const notifiers = { a: { type: 'console' }, b: { type: 'console' }, c: { type: 'console' } };
const routesOf = (routes: unknown[]): RouteConfig[] => validateConfig({ notifiers, routes }, { env: {} }).routes;
const configError = (routes: unknown): string => {
  try {
    validateConfig({ notifiers, routes }, { env: {} });
  } catch (err) {
    if (err instanceof ConfigInvalidError) return err.message;
    throw err;
  }
  return 'no error';
};
const step = (name: string, labels: Record<string, string> = {}, experiment = 'churn') =>
  stepEventFixture({ type: 'steprun.failed', step: name, experiment, labels, pipelineRunId: 'p1' });
/** The notifiers of the routes that take the event, in order. */
const takers = (routes: RouteConfig[], e: WatchEvent) => matchingRoutes(routes, e).map((i) => `${routes[i]!.at}:${routes[i]!.notify.join('+')}`);

describe('the route tree', () => {
  const tree = routesOf([
    { match: {}, notify: ['a'] },
    {
      matchers: ['experiment=~"churn|billing"'],
      notify: ['b'],
      group: { by: ['experiment'], wait: '10s' },
      repeat: { every: '1h' },
      annotations: { runbook: 'https://rb/{{experiment}}', summary: 'top' },
      routes: [
        { matchers: ['step="report"'], notify: ['c'] },
        { match: { labels: { team: 'ml' } }, continue: true, annotations: { runbook: 'https://rb/ml' } },
        { match: { labels: { team: 'ml' } }, notify: ['c'], repeat: false },
        { matchers: ['step!="eval"'] },
      ],
    },
  ]);

  it('is flattened in document order, each route knowing its place', () => {
    expect(tree.map((r) => [r.at, r.parent, r.children, r.continue])).toEqual([
      ['routes[0]', undefined, [], true],
      ['routes[1]', undefined, [2, 3, 4, 5], true],
      ['routes[1].routes[0]', 1, [], false],
      ['routes[1].routes[1]', 1, [], true],
      ['routes[1].routes[2]', 1, [], false],
      ['routes[1].routes[3]', 1, [], false],
    ]);
  });

  it('children inherit what they do not set: notify, group, repeat, annotations (merged)', () => {
    const [, parent, report, ml, mlTeams] = tree;
    expect(report!.group).toEqual(parent!.group);
    expect(report!.repeat).toEqual({ every: 3_600_000 });
    expect(ml!.notify).toEqual(['b']);
    expect(ml!.annotations).toEqual({ runbook: 'https://rb/ml', summary: 'top' });
    expect(mlTeams!.repeat).toBe(false);
    expect(mlTeams!.notify).toEqual(['c']);
  });

  it('the first matching child takes the event, unless it continues; none matching: the parent takes it', () => {
    expect(takers(tree, step('report'))).toEqual(['routes[0]:a', 'routes[1].routes[0]:c']);
    expect(takers(tree, step('train', { team: 'ml' }))).toEqual(['routes[0]:a', 'routes[1].routes[1]:b', 'routes[1].routes[2]:c']);
    expect(takers(tree, step('train'))).toEqual(['routes[0]:a', 'routes[1].routes[3]:b']);
    expect(takers(tree, step('eval'))).toEqual(['routes[0]:a', 'routes[1]:b']);
    expect(takers(tree, step('train', {}, 'other'))).toEqual(['routes[0]:a']);
  });

  it('says how the walk met each route', () => {
    const visits = visitRoutes(tree, step('report', { team: 'ml' }));
    expect(visits[1]).toMatchObject({ reached: true, matched: true, taken: false, childTook: true });
    expect(visits[2]).toMatchObject({ reached: true, matched: true, taken: true });
    expect(visits[3]).toMatchObject({ reached: false, stoppedBy: 2 });
    expect(visitRoutes(tree, step('train', {}, 'other'))[2]).toEqual({ reached: false, matched: false, taken: false, childTook: false });
  });

  it('a top-level route that says continue: false stops the walk; a parent with no notifier whose children pass takes it nowhere', () => {
    const routes = routesOf([
      { match: { experiment: 'churn' }, continue: false, routes: [{ matchers: ['step="train"'], notify: ['a'] }] },
      { match: {}, notify: ['b'] },
    ]);
    expect(takers(routes, step('train'))).toEqual(['routes[0].routes[0]:a']);
    expect(takers(routes, step('eval'))).toEqual([]);
    expect(takers(routes, step('eval', {}, 'billing'))).toEqual(['routes[1]:b']);
  });

  it('bad trees are config errors naming the route', () => {
    expect(configError([{ match: {}, routes: [{ match: { step: 'x' } }] }])).toMatch(
      /routes\[0\]\.routes\[0\]\.notify: a route without child routes must name at least one notifier/,
    );
    expect(configError([{ match: {}, notify: [] }])).toMatch(/routes\[0\]\.notify: a route must name at least one notifier/);
    expect(configError([{ notify: ['a'], matchers: ['experiment=~"(unclosed"'] }])).toMatch(/routes\[0\]\.matchers\[0\]: .*is not a regular expression/);
    expect(configError([{ notify: ['a'], routes: [{ matchers: ['experimnt="x"'] }] }])).toMatch(
      /routes\[0\]\.routes\[0\]\.matchers\[0\]: unknown field "experimnt" \(did you mean "experiment"\?\)/,
    );
    expect(configError([{ notify: ['a'], contiune: true }])).toMatch(/routes\[0\]: Unrecognized key: "contiune"/);
  });

  it('a YAML alias that puts a route inside itself is refused by path, not a stack overflow', () => {
    const raw = parseYaml('notifiers: {a: {type: console}}\nroutes: &r\n  - notify: [a]\n    routes: *r\n');
    expect(() => validateConfig(raw, { env: {} })).toThrow(/routes\[0\]\.routes: contains itself/);
  });
});

describe('flat lists keep their meaning', () => {
  /** What a flat list always meant: every route whose own conditions hold. */
  const flatRule = (routes: RouteConfig[], e: WatchEvent) => routes.flatMap((r, i) => (routeMatches(r, e) ? [i] : []));
  const events = fc
    .record({
      kind: fc.constantFrom('step', 'pipeline'),
      type: fc.constantFrom('failed', 'finished', 'running'),
      experiment: fc.constantFrom('nightly', 'nightly-churn', 'demo', 'billing'),
      step: fc.constantFrom('train', 'report', 'eval'),
      labels: fc.record({ env: fc.constantFrom('prod', 'dev'), team: fc.constantFrom('ml', 'web') }, { requiredKeys: [] }),
    })
    .map(({ kind, type, experiment, step: name, labels }): WatchEvent =>
      kind === 'step'
        ? stepEventFixture({
            type: `steprun.${type}` as WatchEvent['type'],
            status: type === 'failed' ? 'Failed' : type === 'finished' ? 'Finished' : 'Running',
            step: name,
            experiment,
            labels,
          })
        : { ...pipelineFailedEvent(), type: `pipelinerun.${type}` as WatchEvent['type'], experiment, labels },
    );
  const dir = path.join(__dirname, '../../config/examples');
  const env = EXAMPLE_ENV;

  it.each(['azureml.yaml', 'slack.yaml'])('%s: the tree takes exactly the routes the flat list did', async (file) => {
    const { routes } = await loadConfig({ file: path.join(dir, file), env });
    expect(routes.every((r) => r.parent === undefined && r.continue)).toBe(true);
    fc.assert(fc.property(events, (e) => expect(matchingRoutes(routes, e)).toEqual(flatRule(routes, e))));
  });

  it('the on-call example as it was before trees (a flat list) routes as it did', () => {
    const before = parseYaml(readFileSync(path.join(__dirname, '../fixtures/oncall-flat.yaml'), 'utf8')) as { routes: unknown[] };
    const routes = routesOf(before.routes.map((r) => ({ ...(r as object), notify: ['a'] })));
    fc.assert(fc.property(events, (e) => expect(matchingRoutes(routes, e)).toEqual(flatRule(routes, e))));
  });

  it('the on-call example as a tree: a team split, a runbook per team, continue', async () => {
    const { routes } = await loadConfig({ file: path.join(dir, 'oncall.yaml'), env });
    const prod = { env: 'prod', team: 'ml' };
    const names = (e: WatchEvent) => matchingRoutes(routes, e).flatMap((i) => routes[i]!.notify);
    expect(names(step('report', prod))).toEqual(['console', 'internal', 'teams']);
    expect(names(step('train', prod))).toEqual(['console', 'internal', 'pagerduty', 'teams']);
    expect(names(step('train', { env: 'prod', team: 'web' }))).toEqual(['console', 'internal', 'pagerduty']);
    expect(names(step('train', { env: 'dev', team: 'ml' }))).toEqual(['console', 'internal', 'teams']);
    const mlPage = matchingRoutes(routes, step('train', prod))
      .map((i) => routes[i]!)
      .find((r) => r.notify.includes('pagerduty'));
    expect(mlPage!.annotations.runbook).toBe('https://runbooks.example.com/ml/{{experiment}}');
  });
});
