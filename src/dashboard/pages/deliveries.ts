// Deliveries, newest first, and the dead letters with a Retry button (POST /deliveries/:id/retry).
import type { ApiDeps } from '../../api/deps';
import { html, timeAgo, type SafeHtml } from '../html';
import { statusBadge } from './runs';

const STATUS_CLASS: Record<string, string> = { delivered: 'Finished', failed: 'Failed', retrying: 'Running', pending: 'Queued', silenced: 'Canceled' };

export async function deliveriesPage(d: ApiDeps, failedOnly: boolean): Promise<SafeHtml> {
  const now = d.clock.now();
  const list = await d.deliveries.list({ failedOnly, limit: 200 });
  return html`<p class="tabs">
      <a href="/ui/deliveries" ${failedOnly ? '' : html` aria-current="true"`}>All</a> ·
      <a href="/ui/deliveries?status=failed" ${failedOnly ? html` aria-current="true"` : ''}>Dead letters</a>
    </p>
    ${
      list.length
        ? html`<table>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Notifier</th>
                <th scope="col">Status</th>
                <th scope="col">Tries</th>
                <th scope="col">Updated</th>
                <th scope="col">Last error</th>
                <th scope="col"><span class="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              ${list.map(
                (r) =>
                  html`<tr data-delivery="${r.id}" data-status="${r.status}">
                    <td>${r.summary || r.eventType}</td>
                    <td>${r.notifier}</td>
                    <td>${statusBadge(STATUS_CLASS[r.status], r.status)}</td>
                    <td>${r.attempts}${r.retries ? ` (+${r.retries} retried)` : ''}</td>
                    <td>${timeAgo(r.updatedAt, now)}</td>
                    <td>${r.lastError ?? (r.silencedBy ? `silenced by ${r.silencedBy}` : '')}</td>
                    <td>${r.status === 'failed' ? html`<button type="button" data-retry-delivery="${r.id}">Retry</button>` : ''}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        : html`<p>${failedOnly ? 'No dead letter.' : 'No delivery yet.'}</p>`
    }`;
}
