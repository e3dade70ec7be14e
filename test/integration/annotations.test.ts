// Annotations (runbook, summary, description) of routes and tracks, rendered with the event's fields, through the
// real dispatcher and delivery worker into every format: PagerDuty's incident (links, custom_details), CloudEvents
// data, and — from the same rendered event — Slack's button, Teams' action and email; the track's own win.
import { annotationsCell } from '../../src/api/dashboard/annotations';
import { alertPolicyOf } from '../../src/alerts/policy';
import { validateConfig } from '../../src/config/load';
import { forReceiver } from '../../src/notify/deliver/run-link';
import { stepEvent as observedStep } from '../../src/store/event-builders';
import { trackOfTarget } from '../../src/store/tracks';
import { stepSnapshot } from '../support/events';
import { emailContent } from '../../src/notify/notifiers/formats/email-message';
import { slackMessage, teamsMessage } from '../../src/notify/notifiers/formats/webhook-formats';
import { AlertRig, stepEvent } from '../support/alert-rig';

describe('annotations in every message', () => {
  let rig: AlertRig;
  beforeAll(async () => {
    rig = await new AlertRig({
      config: {
        routes: [
          {
            match: { type: ['steprun.failed', 'steprun.finished'] },
            notify: ['pd', 'ce'],
            group: { by: ['pipelineRunId'], wait: '1s' },
            annotations: { runbook: 'https://runbooks.example.com/{{experiment}}/{{stepRun.name}}', summary: '{{experiment}} <b>needs</b> a look' },
          },
        ],
      },
    }).start();
  });
  afterAll(async () => rig?.stop());

  it('a route’s annotations reach the pager’s incident and the CloudEvents data, rendered; a track’s own win', async () => {
    await rig.emit(stepEvent('steprun.failed', 'train', 'run1'), {
      ...stepEvent('steprun.failed', 'eval', 'run2'),
      annotations: { summary: 'the track says: {{stepRun.name}}' },
    });
    await rig.settle(2_000);
    const triggers = rig.pd.received.map(
      (r) => r.json as { event_action: string; links?: { href: string; text: string }[]; payload?: { custom_details: Record<string, unknown> } },
    );
    const trigger = triggers.find((t) => t.event_action === 'trigger' && JSON.stringify(t).includes('run1'))!;
    expect(trigger.links).toContainEqual({ href: 'https://runbooks.example.com/E/train', text: 'Runbook' });
    expect(trigger.payload!.custom_details.Summary).toBe('E <b>needs</b> a look');
    const data = rig.ce.received.map((r) => (r.json as { data: { annotations?: Record<string, string>; stepRun?: { name: string } } }).data);
    expect(data.find((d) => d.stepRun?.name === 'train')!.annotations).toEqual({
      runbook: 'https://runbooks.example.com/E/train',
      summary: 'E <b>needs</b> a look',
    });
    expect(data.find((d) => d.stepRun?.name === 'eval')!.annotations).toEqual({
      runbook: 'https://runbooks.example.com/E/eval',
      summary: 'the track says: eval',
    });
  });

  it('Slack shows a Runbook button, Teams an action, email a link and the summary (escaped as each format escapes)', () => {
    const e = forReceiver(
      { ...stepEvent('steprun.failed', 'train', 'run1'), annotations: { runbook: 'https://rb.example/{{stepRun.name}}', summary: '<b>{{experiment}}</b>' } },
      { publicUrl: 'https://srw.example.com' },
    );
    expect(e.links!.map((l) => l.label)).toEqual(['Run in steprun-watch', 'Runbook']);
    const slack = JSON.stringify(slackMessage(e));
    expect(slack).toContain('"text":{"type":"plain_text","text":"Runbook"},"url":"https://rb.example/train"');
    expect(slack).toContain('&lt;b&gt;E&lt;/b&gt;');
    expect(JSON.stringify(teamsMessage(e))).toContain('{"type":"Action.OpenUrl","title":"Runbook","url":"https://rb.example/train"}');
    const mail = emailContent(e);
    expect(mail.text).toContain('Runbook: https://rb.example/train');
    expect(mail.text).toContain('Summary');
    expect(mail.html).toContain('<a href="https://rb.example/train">Runbook</a>');
    expect(mail.html).toContain('&lt;b&gt;E&lt;/b&gt;');
  });

  it('a track’s annotations ride on its events; the dashboard shows the runbook as a link and the rest as text', () => {
    const config = validateConfig(
      {
        notifiers: { a: { type: 'console' } },
        routes: [{ match: {}, notify: ['a'], annotations: { runbook: 'https://rb.example/{{experiment}}', description: 'from the route' } }],
        tracks: [{ experiment: 'churn', annotations: { summary: 'owned by {{labels.team}}' }, labels: { team: 'ml' } }],
      },
      { env: {} },
    );
    const track = trackOfTarget(config.tracks[0]!, 'config', Date.now());
    const e = observedStep(track, stepSnapshot({ status: 'Failed' }), 'Running', 1, Date.now());
    expect(e.annotations).toEqual({ summary: 'owned by {{labels.team}}' });
    const cell = annotationsCell(alertPolicyOf(config), { ...e, experiment: 'churn' }).toString();
    expect(cell).toContain('<a href="https://rb.example/churn" data-runbook rel="noopener">Runbook</a>');
    expect(cell).toContain('<div data-annotation="summary">owned by ml</div>');
    expect(cell).toContain('<div data-annotation="description">from the route</div>');
  });

  it('an annotation that is not a valid template is a config error naming it', () => {
    expect(() =>
      validateConfig({ notifiers: { a: { type: 'console' } }, routes: [{ notify: ['a'], annotations: { runbook: '{{#open' } }] }, { env: {} }),
    ).toThrow(/routes\[0\]\.annotations\.runbook: not a valid Mustache template/);
  });
});
