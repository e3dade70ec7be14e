// Open alerts and silences: add a silence with an expiry, expire one (the buttons call the JSON API).
import type { ApiDeps } from '../../deps';
import { matchersText, type Silence } from '../../../alerts/silences';
import { holdsLine, receiverHolds } from '../../../alerts/receivers';
import { annotationsCell } from '../annotations';
import { html, table, timeAgo, type SafeHtml } from '../html';

export async function alertsPage(d: ApiDeps): Promise<SafeHtml> {
  const now = d.clock.now();
  const [alerts, silences] = await Promise.all([d.alerts?.list() ?? [], d.silences?.list(now) ?? []]);
  const held = await receiverHolds(alerts, d.deliveries, d.incidents);
  const alertRows = alerts.map(
    (a) =>
      html`<tr data-alert="${a.key}">
        <td><code>${a.key}</code></td>
        <td>${timeAgo(a.openedAt, now)}</td>
        <td>${a.openedType}</td>
        <td>${a.openedSummary}</td>
        <td>${a.failures}</td>
        <td>${annotationsCell(d.policy, a.event)}</td>
        <td>${holdsLine(held.get(a.id))}</td>
        <td>
          ${
            a.acked
              ? html`<span data-acked-by="${a.acked.by}"
                  >by ${a.acked.by}, ${timeAgo(a.acked.at, now)}${a.acked.comment ? html`: ${a.acked.comment}` : ''}</span
                >`
              : html`<button type="button" data-ack-alert="${a.id}">Acknowledge</button>`
          }
        </td>
      </tr>`,
  );
  const head = ['Alert', 'Opened', 'By', 'Summary', 'Failures', 'Runbook', 'Receivers hold', 'Acknowledged'];
  return html`<section aria-labelledby="alerts-h">
      <h2 id="alerts-h">Open alerts</h2>
      ${table({ head, rows: alertRows, empty: 'No open alert.' })}
    </section>
    <section aria-labelledby="silences-h">
      <h2 id="silences-h">Silences</h2>
      ${silenceTable(
        silences.filter((s) => s.endsAt > now),
        'active',
      )}
      ${silenceTable(
        silences.filter((s) => s.endsAt <= now),
        'expired',
      )}
      <form id="silence-form" class="stack" data-api="silence">
        <h3>Add a silence</h3>
        <label>Matches <input name="match" required placeholder="experiment=churn,type=steprun.failed" aria-describedby="match-help" /></label>
        <small id="match-help"
          >Matchers, comma-separated: <code>experiment=nightly-*</code> (globs), <code>step!=report</code>, <code>experiment=~"nightly-.*"</code>,
          <code>labels.team!~"ml|data"</code>.</small
        >
        <label>For <input name="for" required value="2h" pattern="\\d+[smhd]" aria-describedby="for-help" /></label>
        <small id="for-help">A duration: 30m, 2h, 1d.</small>
        <label>Comment <input name="comment" /></label>
        <button type="submit">Add silence</button>
        <p class="form-error" role="alert"></p>
      </form>
    </section>`;
}

/** Active silences (with an Expire button) or the ones that ended in the last day (kept, as Alertmanager shows them). */
function silenceTable(list: Silence[], state: 'active' | 'expired'): SafeHtml {
  const rows = list.map(
    (s) =>
      html`<tr data-silence="${s.id}" data-state="${state}">
        <td>
          <code>${matchersText(s.matchers)}</code>
        </td>
        <td><time datetime="${new Date(s.endsAt).toISOString()}">${new Date(s.endsAt).toISOString().replace('T', ' ').slice(0, 16)} UTC</time></td>
        <td>${s.comment}</td>
        <td>${state === 'active' ? html`<button type="button" data-expire-silence="${s.id}">Expire</button>` : ''}</td>
      </tr>`,
  );
  const head = ['Matches', state === 'active' ? 'Ends' : 'Ended', 'Comment', ''];
  return state === 'active'
    ? table({ head, rows, empty: 'No active silence.' })
    : html`${rows.length ? html`<h3>Expired in the last day</h3>` : ''}${table({ head, rows, empty: '' })}`;
}
