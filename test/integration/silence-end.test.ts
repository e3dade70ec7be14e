// A silence that ends, or an inhibition that lifts, while its alert still fails: every notifier of the route that
// was not told hears of it at the scheduler's next tick, once, titled by what it is ("Still failing since 02:14 UTC
// (1 failure)"), whether or not the route repeats — mail and webhooks as pagers do. A notifier told before the silence
// began hears nothing new; an alert that resolved under the silence says nothing at all. Real dispatcher, delivery
// worker, Redis, SMTP and HTTP receivers (AlertRig). (Issue 36, item 7: only routes with `repeat` heard of it, as
// "Repeat 7".)
import type { ParsedMail } from 'mailparser';
import { AlertRig, stepEvent } from '../support/alert-rig';
import { MailCatcher } from '../support/smtp';

jest.setTimeout(60_000);

const TRAIN = 'local/E/step/train';
let rig: AlertRig | undefined;
const smtp = new MailCatcher();

beforeAll(async () => {
  await smtp.start();
});
afterAll(async () => {
  await smtp.close();
});
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
  smtp.mails.splice(0);
});

async function rigWith(config: Record<string, unknown>): Promise<AlertRig> {
  rig = await new AlertRig({
    config: {
      ...config,
      notifiers: { mail: { type: 'email', to: 'oncall@example.com', from: 'srw@example.com', smtp: { host: '127.0.0.1', port: smtp.port, secure: false } } },
    },
  }).start();
  return rig;
}

const failures = { match: { type: 'steprun.failed' }, notify: ['ce', 'mail'] };
const subjects = (mails: ParsedMail[]) => mails.map((m) => m.subject ?? '');

/** The scheduler's tick a second later on the daemon's clock, then everything it sent, delivered. */
async function tick(r: AlertRig): Promise<void> {
  r.clock.advance(1000);
  await r.repeatTick();
  await r.settle();
}

it('a silence that ends on a failing alert tells each notifier once, "Still failing since", on a route without repeat', async () => {
  const r = await rigWith({ routes: [failures] });
  const silence = await r.silences.add({ matchers: { experiment: 'E' }, durationMs: 3_600_000 }, r.clock.now());
  const failedAt = r.clock.now();
  await r.emit(stepEvent('steprun.failed', 'train', 'run1'));
  await r.settle();
  await tick(r);
  expect([r.messages(), smtp.mails]).toEqual([[], []]);

  await r.silences.expire(silence.id, r.clock.now());
  await tick(r);
  const since = new Date(failedAt).toISOString().slice(11, 16);
  expect(r.messages().map((m) => [m.kind, m.key])).toEqual([['update', TRAIN]]);
  expect(subjects(smtp.mails)).toEqual([expect.stringMatching(new RegExp(`^Still failing since ${since} UTC \\(1 failure\\): `))]);

  // Once: later ticks say nothing more; the recovery is said to both, as to any notifier that was told.
  await tick(r);
  r.clock.advance(120_000);
  await tick(r);
  expect([r.messages().length, smtp.mails.length]).toEqual([1, 1]);
  await r.emit(stepEvent('steprun.finished', 'train', 'run2'));
  await r.settle();
  expect(r.messages().map((m) => m.kind)).toEqual(['update', 'resolve']);
  expect(smtp.mails).toHaveLength(2);
});

it('on a route that repeats, the first word after the silence is "Still failing since", not "Repeat n"', async () => {
  const r = await rigWith({ routes: [{ ...failures, repeat: { every: 15 } }] });
  const silence = await r.silences.add({ matchers: { experiment: 'E' }, durationMs: 3_600_000 }, r.clock.now());
  await r.emit(stepEvent('steprun.failed', 'train', 'run1'));
  await r.settle();
  r.clock.advance(46_000); // three repeats fall due under the silence
  await tick(r);
  await r.silences.expire(silence.id, r.clock.now());
  await tick(r);
  expect(subjects(smtp.mails)).toEqual([expect.stringMatching(/^Still failing since \d\d:\d\d UTC \(1 failure\): /)]);
  expect(r.messages().map((m) => [m.kind, m.repeat])).toEqual([['update', undefined]]);
  // From then on the route's repeats, counted as before.
  r.clock.advance(15_000);
  await tick(r);
  expect(subjects(smtp.mails)[1]).toMatch(/^Repeat \d+: /);
  expect(smtp.mails).toHaveLength(2);
});

it('a notifier told before the silence began hears nothing when it ends; one resolved under it hears nothing at all', async () => {
  const r = await rigWith({ routes: [failures] });
  await r.emit(stepEvent('steprun.failed', 'train', 'run1'));
  await r.settle();
  expect(r.messages().map((m) => m.kind)).toEqual(['page']);
  const silence = await r.silences.add({ matchers: { experiment: 'E' }, durationMs: 3_600_000 }, r.clock.now());
  await r.emit(stepEvent('steprun.failed', 'train', 'run2'));
  await r.settle();
  await r.silences.expire(silence.id, r.clock.now());
  await tick(r);
  expect(r.messages().map((m) => m.kind)).toEqual(['page']);
  expect(smtp.mails).toHaveLength(1);

  // eval fails and recovers under a second silence: nothing is said of it, before or after the silence ends.
  const second = await r.silences.add({ matchers: { experiment: 'E', step: 'eval' }, durationMs: 3_600_000 }, r.clock.now());
  await r.emit(stepEvent('steprun.failed', 'eval', 'run3'));
  await r.settle();
  await r.emit(stepEvent('steprun.finished', 'eval', 'run4'));
  await r.settle();
  await r.silences.expire(second.id, r.clock.now());
  await tick(r);
  expect(r.messages().filter((m) => m.key.endsWith('/eval'))).toEqual([]);
  expect(smtp.mails).toHaveLength(1);
});

it('an inhibition that lifts on a failing alert tells its notifiers once', async () => {
  const r = await rigWith({
    routes: [failures],
    inhibit: [{ source: { match: { step: 'prep' } }, target: { match: { step: 'train' } }, equal: ['experiment'] }],
  });
  await r.emit(stepEvent('steprun.failed', 'prep', 'run1'), stepEvent('steprun.failed', 'train', 'run1'));
  await r.settle();
  await tick(r);
  expect(r.messages().map((m) => [m.kind, m.key])).toEqual([['page', 'local/E/step/prep']]);
  // prep recovers; train still fails: its inhibition has lifted, seen at the next look (within a minute).
  await r.emit(stepEvent('steprun.finished', 'prep', 'run2'));
  await r.settle();
  r.clock.advance(59_000);
  await tick(r);
  expect(r.messages().map((m) => [m.kind, m.key])).toEqual([
    ['page', 'local/E/step/prep'],
    ['resolve', 'local/E/step/prep'],
    ['update', TRAIN],
  ]);
  expect(subjects(smtp.mails)[2]).toMatch(/^Still failing since \d\d:\d\d UTC \(1 failure\): \[Failed\] train/);
});
