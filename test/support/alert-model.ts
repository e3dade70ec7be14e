// The model of the alert model-based test (test/integration/alert-model.test.ts) and the commands fast-check draws:
// each plays one thing on the real rig (AlertRig) and updates the model of what receivers must end up holding.
import fc from 'fast-check';
import type { AlertRig } from './alert-rig';
import { pipelineEvent, stepEvent } from './alert-rig';
import type { PrivateRedis } from './redis';
import { acknowledge, unacknowledge } from '../../src/alerts/ack';

export const STEPS = ['train', 'eval'] as const;
export type Step = (typeof STEPS)[number];

export interface Model {
  run: number;
  /** Open alerts by key, with whether a silence covered them, and whether someone acknowledged them, since they opened. */
  open: Map<string, { silencedSinceOpen: boolean; ackedSinceOpen?: boolean }>;
  /** The pager's incident group of each open step alert: the pipeline run it first failed in (grouped by run). */
  pdGroup: Map<string, string>;
  /** Silences in force: the step they cover (undefined: the whole experiment). */
  silences: { id: string; step?: Step }[];
  /** Open step alerts someone acknowledged (from the CLI, or from PagerDuty), not taken back. */
  acked: Set<string>;
}

export const keyOf = (step: Step) => `local/E/step/${step}`;
const PIPELINE_KEY = 'local/E/pipeline/P';

export type Real = AlertRig;
type Cmd = fc.AsyncCommand<Model, Real>;

export function covered(m: Model, step: Step): boolean {
  return m.silences.some((s) => s.step === undefined || s.step === step);
}

class Fail implements Cmd {
  constructor(readonly step: Step) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const run = `run${++m.run}`;
    await r.emit(stepEvent('steprun.failed', this.step, run), pipelineEvent('pipelinerun.failed', run, [this.step]));
    const key = keyOf(this.step);
    const known = m.open.get(key);
    if (!known) m.pdGroup.set(key, run);
    m.open.set(key, { ...known, silencedSinceOpen: (known?.silencedSinceOpen ?? false) || covered(m, this.step) });
    m.open.set(PIPELINE_KEY, { silencedSinceOpen: true }); // inhibited or silenced: not asserted to page
    await r.settle();
  }
  toString = () => `Fail(${this.step})`;
}

class Pass implements Cmd {
  constructor(readonly step: Step) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const run = `run${++m.run}`;
    await r.emit(stepEvent('steprun.finished', this.step, run), pipelineEvent('pipelinerun.finished', run));
    m.open.delete(keyOf(this.step));
    m.pdGroup.delete(keyOf(this.step));
    m.acked.delete(keyOf(this.step));
    m.open.delete(PIPELINE_KEY);
    await r.settle();
  }
  toString = () => `Pass(${this.step})`;
}

/**
 * A failure and its recovery `gapMs` apart, around the grouped route's flush (wait 0.4 s): the group's notification,
 * its noting on the alert and the resolve race each other (the interleaving the fixed seed once met by chance).
 */
class Flap implements Cmd {
  constructor(
    readonly step: Step,
    readonly gapMs: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const failed = `run${++m.run}`;
    await r.emit(stepEvent('steprun.failed', this.step, failed), pipelineEvent('pipelinerun.failed', failed, [this.step]));
    await new Promise((res) => setTimeout(res, this.gapMs));
    const passed = `run${++m.run}`;
    await r.emit(stepEvent('steprun.finished', this.step, passed), pipelineEvent('pipelinerun.finished', passed));
    m.open.delete(keyOf(this.step));
    m.pdGroup.delete(keyOf(this.step));
    m.acked.delete(keyOf(this.step));
    m.open.delete(PIPELINE_KEY);
    await r.settle(3000);
  }
  toString = () => `Flap(${this.step}, ${this.gapMs} ms)`;
}

/** Acknowledged from anywhere (the CLI, the API, Slack and PagerDuty all call acknowledge()). */
class Ack implements Cmd {
  constructor(readonly step: Step) {}
  check = (m: Readonly<Model>) => m.open.has(keyOf(this.step)) && !m.acked.has(keyOf(this.step));
  async run(m: Model, r: Real) {
    await acknowledge(r.alerts, keyOf(this.step), 'ana', r.clock.now(), undefined, r.incidents);
    m.acked.add(keyOf(this.step));
    m.open.get(keyOf(this.step))!.ackedSinceOpen = true;
    await r.settle(1000);
  }
  toString = () => `Ack(${this.step})`;
}

/** The acknowledgement taken back (alerts unack, DELETE /alerts/{id}/ack, Slack, PagerDuty's unacknowledged). */
class Unack implements Cmd {
  constructor(readonly step: Step) {}
  check = (m: Readonly<Model>) => m.open.has(keyOf(this.step)) && m.acked.has(keyOf(this.step));
  async run(m: Model, r: Real) {
    await unacknowledge(r.alerts, keyOf(this.step), r.clock.now(), r.incidents);
    m.acked.delete(keyOf(this.step));
    await r.settle(1000);
  }
  toString = () => `Unack(${this.step})`;
}

/** Someone resolves the incident in PagerDuty while the step still fails: the alert closes; its next failure opens anew. */
class ResolvedByHand implements Cmd {
  constructor(readonly step: Step) {}
  check = (m: Readonly<Model>) => m.open.has(keyOf(this.step));
  async run(m: Model, r: Real) {
    await r.alerts.resolveByHand(keyOf(this.step), 'Jane (PagerDuty)', r.clock.now(), 'human');
    m.open.delete(keyOf(this.step));
    m.pdGroup.delete(keyOf(this.step));
    m.acked.delete(keyOf(this.step));
    await r.settle(1000);
  }
  toString = () => `ResolvedByHand(${this.step})`;
}

export class Silence implements Cmd {
  constructor(readonly step: Step | undefined) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const s = await r.silences.add({ matchers: this.step ? { experiment: 'E', step: this.step } : { experiment: 'E' }, durationMs: 3_600_000 }, r.clock.now());
    m.silences.push({ id: s.id, step: this.step });
    for (const step of STEPS) if (covered(m, step) && m.open.has(keyOf(step))) m.open.get(keyOf(step))!.silencedSinceOpen = true;
  }
  toString = () => `Silence(${this.step ?? 'experiment'})`;
}

export class Expire implements Cmd {
  check = (m: Readonly<Model>) => m.silences.length > 0;
  async run(m: Model, r: Real) {
    const s = m.silences.shift()!;
    await r.silences.expire(s.id, r.clock.now());
  }
  toString = () => 'Expire';
}

/** The clock passes a repeat interval; the scheduler's tick sends what is due; group waits elapse. */
class Tick implements Cmd {
  check = () => true;
  async run(_m: Model, r: Real) {
    r.clock.advance(16_000);
    await r.repeatTick();
    await r.settle(1000);
  }
  toString = () => 'Tick';
}

class Restart implements Cmd {
  check = () => true;
  async run(_m: Model, r: Real) {
    await r.restart();
  }
  toString = () => 'Restart';
}

/** Redis itself stops (SIGTERM: its append-only file is flushed) and starts again; every connection waits and reconnects. */
class RestartRedis implements Cmd {
  constructor(private readonly redis: PrivateRedis) {}
  check = () => true;
  async run(_m: Model, r: Real) {
    await this.redis.stop();
    await this.redis.start();
    await r.settle();
  }
  toString = () => 'RestartRedis';
}

class KillWorker implements Cmd {
  check = () => true;
  async run(_m: Model, r: Real) {
    await r.killWorker();
  }
  toString = () => 'KillWorker';
}

/** Every command, drawn by fast-check; `redis` is the test's own, which RestartRedis stops and starts. */
export function alertCommands(redis: PrivateRedis) {
  return [
    fc.constantFrom(...STEPS).map((s) => new Fail(s)),
    fc.constantFrom(...STEPS).map((s) => new Pass(s)),
    fc.tuple(fc.constantFrom(...STEPS), fc.integer({ min: 250, max: 550 })).map(([s, gap]) => new Flap(s, gap)),
    fc.option(fc.constantFrom(...STEPS), { nil: undefined }).map((s) => new Silence(s)),
    fc.constant(new Expire()),
    fc.constant(new Tick()),
    fc.constant(new Restart()),
    fc.constant(new KillWorker()),
    fc.constant(new RestartRedis(redis)),
    fc.constantFrom(...STEPS).map((s) => new Ack(s)),
    fc.constantFrom(...STEPS).map((s) => new Unack(s)),
    fc.constantFrom(...STEPS).map((s) => new ResolvedByHand(s)),
  ];
}
