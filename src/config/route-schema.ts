// Routes as Alertmanager's route tree: nodes with `match`/`matchers`, children `routes:`, `continue`, and settings
// (`notify`, `group`, `repeat`, `mute`, ...) that children inherit and may override. The tree is flattened here, in
// document order, into the list the alert decision reads: each route with its settings filled in, its own matchers,
// and where it sits (parent, children, continue). A flat list is a tree of one level — its routes all continue, as
// they always did — so its routes keep their indices, and every group keyed by a route index keeps its id.
import { z } from 'zod';
import { MatcherSyntaxError, parseMatcher, type Matcher } from '../store/matchers';
import { annotationsSchema, duration, keyField, name, stringOrList } from './field-schemas';
import { validTimeZone } from './time-range-schema';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM');

/** `['experiment=~"nightly-.*"', 'step!=report']`: each parsed, the one that does not parse named by its index. */
export const matcherList = z.array(z.string()).transform((texts, ctx) =>
  texts.flatMap((text, i): Matcher[] => {
    try {
      return [parseMatcher(text)];
    } catch (err) {
      if (!(err instanceof MatcherSyntaxError)) throw err;
      ctx.addIssue({ code: 'custom', path: [i], message: err.message });
      return [];
    }
  }),
);

/** What a route node may say about itself; children inherit every setting they do not set. */
const settings = {
  notify: z.array(name).min(1, 'a route must name at least one notifier (or leave notify out to inherit its parent’s)').optional(),
  /** One pipeline-level notification (pipelinerun.*) instead of one per step. */
  summary: z.boolean().optional(),
  /** Hold non-failure notifications during this daily window until it ends; failures still go at once. */
  quiet: z.strictObject({ from: hhmm, to: hhmm, tz: z.string().default('UTC').refine(validTimeZone, 'an IANA time zone such as Europe/Berlin') }).optional(),
  /** The alert key of the alerts this route opens (default: provider/experiment/step or pipeline name; track id). */
  key: z.array(keyField).min(1).optional(),
  /** Alertmanager's grouping: events of one group within `wait` become one notification; the next one no sooner than `interval`. */
  group: z.strictObject({ by: z.array(keyField).default(['pipelineRunId']), wait: duration.default(30_000), interval: duration.default(300_000) }).optional(),
  /** Send an alert that is still open again this often, until it resolves (`false`: never). */
  repeat: z.union([z.literal(false), z.strictObject({ every: duration })]).optional(),
  /** An acknowledgement of this route's alerts lapses after `expires`: repeats resume, a pager's incident is triggered again. */
  ack: z.strictObject({ expires: duration }).optional(),
  /**
   * Another failure of an alert that is open and was sent: `never` says nothing more, `update` a short "still failing
   * (n×)" (the live Slack message: a line in its thread), `always` the full message again. Pagers page once whatever.
   */
  renotify: z.enum(['never', 'update', 'always']).optional(),
  /** Time intervals (`timeIntervals`) during which this route's deliveries are held until the interval ends. */
  mute: z.array(z.string().min(1)).optional(),
  /** Time intervals outside which this route's deliveries are held until one begins. */
  activeOnly: z.array(z.string().min(1)).optional(),
  /** PagerDuty severity of the pages this route sends (default: from the event type: warning for stuck and missing, else error). */
  severity: z.enum(['critical', 'error', 'warning', 'info']).optional(),
  /** `runbook`, `summary`, `description` (and any other name): Mustache over the event's fields, in every message. */
  annotations: annotationsSchema.optional(),
};

const matchMap = z
  .strictObject({
    type: stringOrList.optional(),
    status: stringOrList.optional(),
    experiment: stringOrList.optional(),
    pipeline: stringOrList.optional(),
    step: stringOrList.optional(),
    labels: z.record(z.string(), z.string()).optional(),
  })
  .default({});

type MatchMap = z.infer<typeof matchMap>;
type Settings = { [K in keyof typeof settings]?: z.infer<(typeof settings)[K]> };

/** One node as written. */
export interface RouteNode extends Settings {
  match: MatchMap;
  matchers?: Matcher[];
  continue?: boolean;
  routes?: RouteNode[];
}

export const routeNodeSchema: z.ZodType<RouteNode, unknown> = z.lazy(() =>
  z.strictObject({
    /** Globs per field (any of a list); every field given must match. */
    match: matchMap,
    /** Alertmanager matchers; every one must match (with `match`, if given). */
    matchers: matcherList.optional(),
    /** After this route matched, go on to its next sibling (Alertmanager's `continue`). */
    continue: z.boolean().optional(),
    /** Children: the first that matches takes the event (and those after it that continue); none: this route does. */
    routes: z.array(routeNodeSchema).optional(),
    ...settings,
  }),
);

/** A route of the flattened tree, settings inherited and defaulted: what the alert decision reads. */
export interface RouteConfig {
  /** Where it is written: `routes[1].routes[0]`. */
  at: string;
  /** Its parent's index; none for a top-level route. */
  parent?: number;
  /** Its children's indices, in order. */
  children: number[];
  continue: boolean;
  match: MatchMap;
  matchers: Matcher[];
  notify: string[];
  summary: boolean;
  quiet?: Settings['quiet'];
  key?: string[];
  group?: Settings['group'];
  repeat: false | { every: number };
  ack?: Settings['ack'];
  renotify: 'never' | 'update' | 'always';
  mute: string[];
  activeOnly: string[];
  severity?: Settings['severity'];
  annotations: Record<string, string>;
}

/**
 * The tree, flattened in document order. Top-level routes continue unless they say `continue: false` (a flat list
 * means every matching route, as it always did); children stop at the first match unless they say `continue: true`,
 * as in Alertmanager. A leaf that names no notifier, itself or through a parent, is refused by path.
 */
export const routesSchema = z
  .array(routeNodeSchema)
  .default([])
  .transform((nodes, ctx) => {
    const flat: RouteConfig[] = [];
    const visit = (node: RouteNode, at: string, parent: RouteConfig | undefined, parentIndex: number | undefined, depth: number) => {
      const index = flat.length;
      const route = inherit(node, at, parent, parentIndex, depth === 0);
      flat.push(route);
      const children = node.routes ?? [];
      if (children.length === 0 && route.notify.length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: pathOf(at, 'notify'),
          message: 'a route without child routes must name at least one notifier (its own or a parent’s)',
        });
      }
      children.forEach((child, i) => {
        route.children.push(flat.length);
        visit(child, `${at}.routes[${i}]`, route, index, depth + 1);
      });
    };
    nodes.forEach((node, i) => visit(node, `routes[${i}]`, undefined, undefined, 0));
    return flat;
  });

function inherit(node: RouteNode, at: string, parent: RouteConfig | undefined, parentIndex: number | undefined, topLevel: boolean): RouteConfig {
  const own = <K extends keyof Settings>(k: K) => (node[k] !== undefined ? node[k] : parent?.[k as keyof RouteConfig]);
  const optional = <T>(field: string, value: T | undefined) => (value === undefined ? {} : { [field]: value });
  return {
    at,
    ...(parentIndex === undefined ? {} : { parent: parentIndex }),
    children: [],
    continue: node.continue ?? topLevel,
    match: node.match,
    matchers: node.matchers ?? [],
    notify: (own('notify') as string[] | undefined) ?? [],
    summary: (own('summary') as boolean | undefined) ?? false,
    repeat: (own('repeat') as RouteConfig['repeat'] | undefined) ?? false,
    renotify: (own('renotify') as RouteConfig['renotify'] | undefined) ?? 'update',
    mute: (own('mute') as string[] | undefined) ?? [],
    activeOnly: (own('activeOnly') as string[] | undefined) ?? [],
    annotations: { ...parent?.annotations, ...node.annotations },
    ...optional('quiet', own('quiet')),
    ...optional('key', own('key')),
    ...optional('group', own('group')),
    ...optional('ack', own('ack')),
    ...optional('severity', own('severity')),
  } as RouteConfig;
}

/** `routes[1].routes[0]` + `notify` as a zod path relative to `routes`: [1, 'routes', 0, 'notify']. */
function pathOf(at: string, field: string): (string | number)[] {
  const path: (string | number)[] = [];
  for (const m of at.matchAll(/routes\[(\d+)\]/g)) path.push(...(path.length ? ['routes'] : []), Number(m[1]));
  return [...path, field];
}

/** Matchers of an inhibition rule's side: `match` (field -> glob) and `matchers` (Alertmanager's), all of them. */
const inhibitSide = z
  .strictObject({ match: z.record(z.string(), z.string().min(1)).default({}), matchers: matcherList.default([]) })
  .transform(({ match, matchers }, ctx) => {
    const fromMap = Object.entries(match).flatMap(([field, value]): Matcher[] => {
      try {
        return [parseMatcher(`${field}=${JSON.stringify(value)}`)];
      } catch (err) {
        if (!(err instanceof MatcherSyntaxError)) throw err;
        ctx.addIssue({ code: 'custom', path: ['match', field], message: err.message });
        return [];
      }
    });
    return { matchers: [...fromMap, ...matchers] };
  });

/** Alertmanager's inhibit_rules: an open alert matching `source` mutes events matching `target` that share the `equal` fields. */
export const inhibitRuleSchema = z.strictObject({
  source: inhibitSide,
  target: inhibitSide,
  equal: z.array(keyField).default([]),
});

export type InhibitRule = z.infer<typeof inhibitRuleSchema>;
