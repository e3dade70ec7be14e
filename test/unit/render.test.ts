// Hostile text from runs fed to every format.
import { cloudEvent, pagerDutyEvent, slackMessage, teamsMessage } from '../../src/notify/notifiers/formats/webhook-formats';
import { emailContent } from '../../src/notify/notifiers/formats/email-message';
import { cutTail, fitLines, slackCodeBlock, slackEscape } from '../../src/notify/notifiers/formats/render';
import { parseAzureMlOptions } from '../../src/providers/azureml/options';
import { AzureMlProvider } from '../../src/providers/azureml/provider';
import type { WatchEvent } from '../../src/store/events';

const MENTIONS = 'disk full <!channel> <!here> <@U024BE7LH> & <https://evil.example|click>';
const FENCES = 'Traceback:\n```\nraise ValueError("```")\n```\nend';
const NON_UTF8 = Buffer.from([0x66, 0x61, 0x69, 0x6c, 0xff, 0xfe, 0xc3, 0x28, 0x0a, 0x41]).toString('utf8');

function failedStep(o: Partial<WatchEvent> = {}): WatchEvent {
  return {
    id: 'e1',
    type: 'steprun.failed',
    time: '2026-11-26T10:00:00.000Z',
    detectedAt: 0,
    trackId: 't',
    provider: 'local',
    experiment: 'churn',
    pipelineRunId: 'run1',
    labels: { team: '<!channel>' },
    stepRun: {
      stepRunId: 's1',
      name: 'train <@U1>',
      nodeId: 'n',
      status: 'Failed',
      previousStatus: 'Running',
      rawStatus: 'Failed',
      isReused: false,
      outputNames: [],
      error: { code: 'ExitCode1', message: MENTIONS },
    },
    stderrTail: `${FENCES}\n${MENTIONS}\n${NON_UTF8}`,
    ...o,
  };
}

function summary(steps: number): WatchEvent {
  return {
    ...failedStep(),
    type: 'pipelinerun.failed',
    stepRun: undefined,
    stderrTail: undefined,
    pipelineRun: {
      status: 'Failed',
      previousStatus: null,
      rawStatus: 'Failed',
      error: { code: 'StepFailed', message: MENTIONS },
      steps: Array.from({ length: steps }, (_, i) => ({
        name: `step-${i}-<!here>`,
        stepRunId: `s${i}`,
        status: i === 3 ? 'Failed' : 'Finished',
        isReused: false,
      })),
    },
  };
}

/** Every string Slack parses as mrkdwn: all of them but `plain_text` objects, which Slack shows as they are. */
function mrkdwnStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(mrkdwnStrings);
  if (value && typeof value === 'object') return (value as { type?: string }).type === 'plain_text' ? [] : Object.values(value).flatMap(mrkdwnStrings);
  return [];
}

describe('Slack', () => {
  it('no text taken from a run can mention anyone or open a link', () => {
    for (const e of [failedStep(), summary(50)]) {
      const texts = mrkdwnStrings(slackMessage(e));
      expect(texts.join('\n')).not.toMatch(/<[!@#]/);
      expect(texts.join('\n')).not.toMatch(/<https?:/);
      expect(texts.join('\n')).toContain('&lt;!channel&gt;');
    }
  });

  it('stderr with backticks stays one code block', () => {
    const blocks = (slackMessage(failedStep()) as { blocks: { text?: { text: string } }[] }).blocks;
    const stderr = blocks.find((b) => b.text?.text.startsWith('*stderr'))!.text!.text;
    expect(stderr.match(/```/g)).toHaveLength(2);
    expect(stderr.endsWith('```')).toBe(true);
  });

  it('a 10,000-step summary fits Slack’s limits and says how many steps were left out', () => {
    const message = slackMessage(summary(10_000)) as { blocks: { text?: { text: string } }[] };
    for (const b of message.blocks) expect((b.text?.text ?? '').length).toBeLessThanOrEqual(3000);
    expect(JSON.stringify(message)).toMatch(/\+\d+ more steps/);
  });
});

describe('Teams', () => {
  it.each([1_000, 10_000])('a %i-step summary is under 28 KB and says "+N more"', (n) => {
    const body = JSON.stringify(teamsMessage(summary(n)));
    expect(Buffer.byteLength(body)).toBeLessThan(28 * 1024);
    expect(body).toMatch(/\+\d+ more steps/);
  });

  it('a huge stderr and error are cut to fit, saying so', () => {
    const huge = failedStep({ stderrTail: Array.from({ length: 20_000 }, (_, i) => `line ${i} ${'x'.repeat(40)}`).join('\n') });
    const body = JSON.stringify(teamsMessage(huge));
    expect(Buffer.byteLength(body)).toBeLessThan(28 * 1024);
    expect(body).toMatch(/\+\d+ more lines above/);
    expect(body).toContain('line 19999'); // the end of stderr is what matters
  });
});

describe('every format takes hostile text', () => {
  it.each([
    ['slack', (e: WatchEvent) => slackMessage(e)],
    ['teams', (e: WatchEvent) => teamsMessage(e)],
    ['pagerduty', (e: WatchEvent) => pagerDutyEvent({ ...e, alertKey: 'k' }, 'R') ?? {}],
    ['cloudevents', (e: WatchEvent) => cloudEvent(e)],
    ['email', (e: WatchEvent) => emailContent(e)],
  ])('%s: valid JSON-able output, non-UTF-8 bytes shown as U+FFFD, never thrown', (_name, render) => {
    for (const e of [failedStep(), summary(10_000)]) {
      const out = render(e);
      const json = JSON.stringify(out);
      expect(() => JSON.parse(json)).not.toThrow();
    }
    expect(JSON.stringify(render(failedStep()))).toContain('\ufffd');
  });

  it('email HTML escapes the run’s text', () => {
    const { html } = emailContent(failedStep());
    expect(html).not.toContain('<!channel>');
    expect(html).toContain('&lt;!channel&gt;');
  });
});

describe('the helpers', () => {
  it('fitLines keeps whole lines and says "+N more"', () => {
    expect(fitLines(['aaaa', 'bbbb', 'cccc'], 100)).toBe('aaaa\nbbbb\ncccc');
    const cut = fitLines(
      Array.from({ length: 100 }, (_, i) => `line ${i}`),
      60,
    );
    expect(cut.length).toBeLessThanOrEqual(60);
    expect(cut).toMatch(/\+\d+ more$/);
    const shown = cut.split('\n').length - 1;
    expect(cut).toContain(`+${100 - shown} more`);
  });

  it('cutTail keeps the end and says how much is above', () => {
    const text = Array.from({ length: 1000 }, (_, i) => `l${i}`).join('\n');
    const cut = cutTail(text, 100);
    expect(cut.length).toBeLessThanOrEqual(100);
    expect(cut).toMatch(/^… \+\d+ more lines above\n/);
    expect(cut.endsWith('l999')).toBe(true);
  });

  it('slackEscape and slackCodeBlock', () => {
    expect(slackEscape('a & <b>')).toBe('a &amp; &lt;b&gt;');
    expect(slackCodeBlock('x ``` y ```` z', 100).match(/```/g)).toHaveLength(2);
  });
});

describe('deep links (issue 12)', () => {
  const links = [
    { label: 'Step run in Azure ML studio', url: 'https://ml.azure.com/runs/step_1?wsid=/subscriptions/sub/resourcegroups/rg/workspaces/ws&tid=tenant' },
    { label: 'Pipeline run in Azure ML studio', url: 'https://ml.azure.com/runs/pipe_1?wsid=/subscriptions/sub/resourcegroups/rg/workspaces/ws&tid=tenant' },
  ];
  const e = failedStep({ links, provider: 'prod' });

  it('Slack buttons, a Teams Action.OpenUrl, PagerDuty links, a mail link, CloudEvents data', () => {
    const slack = slackMessage(e) as { blocks: { type: string; elements?: { type: string; url: string }[] }[] };
    expect(slack.blocks.find((b) => b.type === 'actions')!.elements!.map((x) => [x.type, x.url])).toEqual(links.map((l) => ['button', l.url]));
    const teams = teamsMessage(e) as { attachments: { content: { actions: { type: string; url: string }[] } }[] };
    expect(teams.attachments[0]!.content.actions).toEqual(links.map((l) => ({ type: 'Action.OpenUrl', title: l.label, url: l.url })));
    expect(pagerDutyEvent({ ...e, alertKey: 'k' }, 'R')!.links).toEqual(links.map((l) => ({ href: l.url, text: l.label })));
    const mail = emailContent(e);
    expect(mail.text).toContain(links[0]!.url);
    expect(mail.html).toContain(`<a href="${links[0]!.url.replace(/&/g, '&amp;')}">`);
    expect((cloudEvent(e).data as WatchEvent).links).toEqual(links);
  });

  it('PagerDuty severity follows the event: failed error, stuck warning', () => {
    expect(pagerDutyEvent({ ...e, alertKey: 'k' }, 'R')!.payload).toMatchObject({ severity: 'error' });
    const stuck = { ...e, type: 'steprun.stuck' as const, alertKey: 'k', stuck: { reason: 'running' as const, forMs: 3_600_000, limitMs: 1_800_000 } };
    expect(pagerDutyEvent(stuck, 'R')!.payload).toMatchObject({ severity: 'warning' });
  });
});

describe('Azure ML studio links', () => {
  it('follow the studio’s documented format, with the tenant when known', () => {
    const provider = new AzureMlProvider(
      parseAzureMlOptions(
        {
          type: 'azureml',
          subscriptionId: 'sub-1',
          resourceGroup: 'rg-1',
          workspace: 'ws-1',
          region: 'eastus2',
          tenantId: 'tenant-1',
          credential: { token: 't' },
        },
        'prod',
      ),
    );
    expect(provider.linksFor({ pipelineRunId: 'pipe_1', stepRunId: 'step_1' })).toEqual([
      {
        label: 'Step run in Azure ML studio',
        url: 'https://ml.azure.com/runs/step_1?wsid=/subscriptions/sub-1/resourcegroups/rg-1/workspaces/ws-1&tid=tenant-1',
      },
      {
        label: 'Pipeline run in Azure ML studio',
        url: 'https://ml.azure.com/runs/pipe_1?wsid=/subscriptions/sub-1/resourcegroups/rg-1/workspaces/ws-1&tid=tenant-1',
      },
    ]);
  });
});

describe('templates (issue 12)', () => {
  const template = {
    subject: '{{experiment}}: {{stepRun.name}} {{status}}',
    text: 'Error: {{stepRun.error.message}}\n{{#facts}}{{name}}={{value}}\n{{/facts}}',
  };

  it('a notifier template replaces the built-in wording, escaped for each target', () => {
    const slack = slackMessage(failedStep(), template) as { text: string; blocks: { text?: { text: string } }[] };
    expect(slack.blocks[0]!.text!.text).toBe('churn: train <@U1> Failed');
    expect(slack.blocks[1]!.text!.text).toContain('Error: disk full &lt;!channel&gt;');
    expect(JSON.stringify(slack)).not.toContain('<!channel>');
    const mail = emailContent(failedStep(), '[prod] ', template);
    expect(mail.subject).toBe('[prod] churn: train <@U1> Failed');
    expect(mail.text).toContain('Error: disk full <!channel>');
    expect(mail.html).toContain('disk full &lt;!channel&gt;');
    const teams = JSON.stringify(teamsMessage(failedStep(), template));
    expect(teams).toContain('Error: disk full');
    expect(pagerDutyEvent({ ...failedStep(), alertKey: 'k' }, 'R', template)!.payload).toMatchObject({ summary: 'churn: train <@U1> Failed' });
  });

  it('templates are logic-less: no code runs, a bad one is refused at start naming the field', async () => {
    const { templateSchema } = await import('../../src/notify/notifiers/formats/template');
    expect(templateSchema.safeParse({ text: '{{#unclosed}}' }).success).toBe(false);
    expect(templateSchema.safeParse({ text: '{{constructor.constructor}}' }).success).toBe(true);
    const out = slackMessage(failedStep(), { text: '{{constructor.constructor}}|{{process.env.HOME}}' }) as { blocks: { text?: { text: string } }[] };
    expect(out.blocks[1]!.text!.text).not.toContain('function');
    expect(out.blocks[1]!.text!.text).not.toContain('/root');
  });
});
