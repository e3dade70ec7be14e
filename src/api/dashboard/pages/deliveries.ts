// Deliveries, newest first, and the dead letters with a Retry button (POST /deliveries/:id/retry).
import type { ApiDeps } from '../../deps';
import { hasRole, type Identity } from '../../auth/roles';
import { html, table, timeAgo, type SafeHtml } from '../html';
import { statusBadge } from './runs';

const STATUS_CLASS: Record<string, string> = { delivered: 'Finished', failed: 'Failed', retrying: 'Running', pending: 'Queued', silenced: 'Canceled' };

export async function deliveriesPage(d: ApiDeps, failedOnly: boolean, who: Identity): Promise<SafeHtml> {
  const now = d.clock.now();
  const mayRetry = hasRole(who.role, 'operator');
  const list = await d.deliveries.list({ failedOnly, limit: 200 });
  const rows = list.map(
    (r) =>
      html`<tr data-delivery="${r.id}" data-status="${r.status}">
        <td>${r.summary || r.eventType}</td>
        <td>${r.notifier}</td>
        <td>${statusBadge(STATUS_CLASS[r.status], r.status)}</td>
        <td>${r.attempts}${r.retries ? ` (+${r.retries} retried${r.retriedBy ? ` by ${r.retriedBy}` : ''})` : ''}</td>
        <td>${timeAgo(r.updatedAt, now)}</td>
        <td>${r.lastError ?? (r.silencedBy ? `silenced by ${r.silencedBy}` : '')}</td>
        <td>${r.status === 'failed' && mayRetry ? html`<button type="button" data-retry-delivery="${r.id}">Retry</button>` : ''}</td>
      </tr>`,
  );
  const head = ['Event', 'Notifier', 'Status', 'Tries', 'Updated', 'Last error', ''];
  return html`<p class="tabs">
      <a href="/ui/deliveries" ${failedOnly ? '' : html` aria-current="true"`}>All</a> ·
      <a href="/ui/deliveries?status=failed" ${failedOnly ? html` aria-current="true"` : ''}>Dead letters</a>
    </p>
    ${table({ head, rows, empty: failedOnly ? 'No dead letter.' : 'No delivery yet.' })}`;
}
