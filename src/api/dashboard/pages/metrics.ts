// A small summary of the daemon's own metrics (the full set is at /metrics, for Prometheus).
import type { ApiDeps } from '../../deps';
import { html, type SafeHtml } from '../html';

interface Sample {
  labels: Record<string, string | number>;
  value: number;
}

const SHOWN: { metric: string; title: string; by: string[] }[] = [
  { metric: 'srw_polls_total', title: 'Polls', by: ['provider', 'outcome'] },
  { metric: 'srw_provider_errors_total', title: 'Provider errors', by: ['provider', 'code'] },
  { metric: 'srw_deliveries_total', title: 'Deliveries by outcome', by: ['notifier', 'outcome'] },
  { metric: 'srw_queue_jobs', title: 'Queue depths', by: ['queue', 'state'] },
  { metric: 'srw_tracked_targets', title: 'Tracked targets', by: ['provider', 'state'] },
  { metric: 'srw_dead_letters', title: 'Dead letters', by: [] },
  { metric: 'srw_events_retained', title: 'Events retained', by: [] },
];

export async function metricsPage(d: ApiDeps): Promise<SafeHtml> {
  const all = await d.metrics.registry.getMetricsAsJSON();
  const byName = new Map(all.map((m) => [m.name, (m.values ?? []) as Sample[]]));
  return html`<p>The full set, for Prometheus: <a href="/metrics">/metrics</a>.</p>
    <div class="cards">
      ${SHOWN.map(({ metric, title, by }) => {
        const samples = (byName.get(metric) ?? []).filter((s) => s.value !== 0 || by.length === 0);
        return html`<section class="card" aria-labelledby="m-${metric}">
          <h2 id="m-${metric}">${title}</h2>
          ${
            samples.length
              ? html`<table>
                  <tbody>
                    ${samples.map(
                      (s) =>
                        html`<tr>
                          <th scope="row">${by.map((k) => s.labels[k] ?? '').join(' · ') || title}</th>
                          <td class="num" data-metric="${metric}">${s.value}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>`
              : html`<p>none</p>`
          }
        </section>`;
      })}
    </div>`;
}
