// Open alerts and silences: add a silence with an expiry, expire one (the buttons call the JSON API).
import type { ApiDeps } from '../../deps';
import { hasRole, type Identity } from '../../auth/roles';
import { matchersText, type Silence } from '../../../alerts/silences';
import { holdsLine, receiverHolds } from '../../../alerts/receivers';
import { annotationsCell } from '../annotations';
import { html, table, timeAgo, type SafeHtml } from '../html';

/** A viewer sees no button they may not press (the API would answer 403). */
export async function alertsPage(d: ApiDeps, who: Identity): Promise<SafeHtml> {
  const now = d.clock.now();
  const operates = hasRole(who.role, 'operator');
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
              : operates
                ? html`<button type="button" data-ack-alert="${a.id}">Acknowledge</button>`
                : html`<span class="muted">not acknowledged</span>`
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
        operates,
      )}
      ${silenceTable(
        silences.filter((s) => s.endsAt <= now),
        'expired',
        operates,
      )}
      ${operates ? silenceForm() : ''}
    </section>`;
}

function silenceForm(): SafeHtml {
  return html`<form id="silence-form" class="stack" data-api="silence">
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
  </form>`;
}

/** Active silences (with an Expire button) or the ones that ended in the last day (kept, as Alertmanager shows them). */
function silenceTable(list: Silence[], state: 'active' | 'expired', operates: boolean): SafeHtml {
  const rows = list.map(
    (s) =>
      html`<tr data-silence="${s.id}" data-state="${state}">
        <td>
          <code>${matchersText(s.matchers)}</code>
        </td>
        <td><time datetime="${new Date(s.endsAt).toISOString()}">${new Date(s.endsAt).toISOString().replace('T', ' ').slice(0, 16)} UTC</time></td>
        <td>${s.comment}</td>
        <td>${s.createdBy ?? ''}</td>
        <td>${state === 'active' && operates ? html`<button type="button" data-expire-silence="${s.id}">Expire</button>` : ''}</td>
      </tr>`,
  );
  const head = ['Matches', state === 'active' ? 'Ends' : 'Ended', 'Comment', 'By', ''];
  return state === 'active'
    ? table({ head, rows, empty: 'No active silence.' })
    : html`${rows.length ? html`<h3>Expired in the last day</h3>` : ''}${table({ head, rows, empty: '' })}`;
}
