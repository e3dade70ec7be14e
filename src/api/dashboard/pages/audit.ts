// The audit log: every write, newest first — who, what, when, from where, and how it ended.
import type { ApiDeps } from '../../deps';
import { InvalidInputError } from '../../../model/errors';
import { parseSince, SINCE_HELP } from '../../../util/duration';
import { html, table, timeAgo, type SafeHtml } from '../html';

export async function auditPage(d: ApiDeps, sinceText: string | undefined): Promise<SafeHtml> {
  const now = d.clock.now();
  const since = sinceText === undefined ? undefined : parseSince(sinceText, now);
  if (sinceText !== undefined && since === undefined) throw new InvalidInputError(`since: ${SINCE_HELP}`);
  const entries = await d.people.audit.list({ since, limit: 500 });
  const rows = entries.map(
    (e) =>
      html`<tr data-audit="${e.id}">
        <td><time datetime="${new Date(e.at).toISOString()}">${timeAgo(e.at, now)}</time></td>
        <td data-actor>${e.actor}</td>
        <td>${e.role} (${e.via})</td>
        <td><code>${e.action}</code></td>
        <td>${e.from}</td>
        <td>${e.result}</td>
      </tr>`,
  );
  return html`<p>Every write through the API, the dashboard and the CLI; the newest 500${sinceText ? ` since ${sinceText}` : ''}.</p>
    ${table({ head: ['When', 'Who', 'Role', 'What', 'From', 'Result'], rows, empty: 'Nothing written yet.' })}`;
}
