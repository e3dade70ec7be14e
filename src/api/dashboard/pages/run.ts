// One pipeline run, asked of its provider: the step graph, each step's details, the stderr tail of failed steps.
import type { ApiDeps } from '../../deps';
import { HttpError } from '../../http';
import { isSrwError } from '../../../model/errors';
import { Status, subStateOf } from '../../../model/status';
import type { RunProvider, StepRunSnapshot } from '../../../model/provider';
import { stepGraph } from '../graph';
import { duration, html, table, type SafeHtml } from '../html';
import { runAlerts } from './run-alerts';
import { runHref, statusBadge } from './runs';

const STDERR_TAIL_LINES = 20;

export async function runPage(d: ApiDeps, providerName: string, pipelineRunId: string, experiment?: string): Promise<{ title: string; body: SafeHtml }> {
  const provider = d.providers.get(providerName);
  if (!provider) throw new HttpError('SRW_NOT_FOUND', `unknown provider "${providerName}" (configured: ${[...d.providers.keys()].join(', ')})`);
  const ref = { pipelineRunId, experiment };
  const [pipeline, listing] = await Promise.all([provider.getPipelineRun(ref), provider.listStepRuns(ref)]).catch((err: unknown) => {
    if (isSrwError(err) && err.code === 'SRW_RUN_NOT_FOUND') throw new HttpError('SRW_RUN_NOT_FOUND', `unknown pipeline run "${pipelineRunId}"`);
    throw err;
  });
  const now = d.clock.now();
  const [tails, alerts] = await Promise.all([stderrTails(provider, listing.steps), runAlerts(d, providerName, pipeline, listing.steps)]);
  const links = provider.linksFor?.({ pipelineRunId }) ?? [];
  const unreadable = listing.unreadable.map((u) => `${u.stepRunId} (${u.error.message})`).join('; ');
  const body = html`<p class="run-head">
      ${statusBadge(pipeline.status)} experiment
      <strong>${pipeline.experiment}</strong>${pipeline.name && pipeline.name !== pipeline.experiment ? html`, pipeline <strong>${pipeline.name}</strong>` : ''}
      · provider ${providerName} ${links.map((l) => html` · <a href="${l.url}" rel="noopener noreferrer" target="_blank">${l.label}</a>`)}
    </p>
    <section aria-labelledby="graph-h">
      <h2 id="graph-h">Steps</h2>
      <div class="graph-wrap">${stepGraph(listing.steps, now)}</div>
      ${unreadable ? html`<p class="fail-text">Unreadable: ${unreadable}</p>` : ''}
    </section>
    <section aria-labelledby="details-h">
      <h2 id="details-h">Details</h2>
      ${table({ head: ['Step', 'Status', 'Duration', 'Reuse', 'Step run'], rows: listing.steps.map((s) => stepRow(s, providerName, now)), empty: '' })}
      ${listing.steps.filter((s) => tails.has(s.stepRunId)).map((s) => failure(s, tails.get(s.stepRunId)!))}
    </section>
    ${alerts}`;
  return { title: `Pipeline run ${pipelineRunId}`, body };
}

function stepRow(s: StepRunSnapshot, providerName: string, now: number): SafeHtml {
  const took = s.startTime ? duration((s.endTime ? Date.parse(s.endTime) : now) - Date.parse(s.startTime)) : '';
  const subState = subStateOf(s.rawStatus);
  const error = s.error ? html` <span class="fail-text">${s.error.message}</span>` : '';
  const reuse = s.isReused
    ? html`<span class="reused">♻ reused</span>${
          s.reusedRunId
            ? html` from
              ${s.reusedPipelineRunId ? html`<a href="${runHref(providerName, s.reusedPipelineRunId, s.experiment)}">${s.reusedRunId}</a>` : s.reusedRunId}`
            : ''
        }`
    : '';
  return html`<tr id="step-${s.stepRunId}" data-step="${s.name}" data-status="${s.status}">
    <th scope="row">${s.name}</th>
    <td>${statusBadge(s.status)}${subState ? html` <span class="substate">${subState}</span>` : ''}${error}</td>
    <td>${took}</td>
    <td>${reuse}</td>
    <td><code>${s.stepRunId}</code></td>
  </tr>`;
}

function failure(s: StepRunSnapshot, tail: string): SafeHtml {
  return html`<section class="stderr" aria-label="stderr of ${s.name}">
    <h3>${s.name}: last lines of stderr</h3>
    <pre data-stderr="${s.name}">${tail}</pre>
  </section>`;
}

/** The stderr tail of each failed step (one read per failed step; a log that cannot be read is left out). */
async function stderrTails(provider: RunProvider, steps: StepRunSnapshot[]): Promise<Map<string, string>> {
  const tails = new Map<string, string>();
  await Promise.all(
    steps
      .filter((s) => s.status === Status.Failed)
      .map(async (s) => {
        const text = await provider
          .readLog({ stepRunId: s.stepRunId, pipelineRunId: s.pipelineRunId, experiment: s.experiment }, 'stderr', { tailBytes: 8192 })
          .catch(() => '');
        const lines = text.replace(/\n$/, '').split('\n');
        if (text) tails.set(s.stepRunId, lines.slice(-STDERR_TAIL_LINES).join('\n'));
      }),
  );
  return tails;
}
