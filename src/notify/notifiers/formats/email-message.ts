// The email of an event: subject, plain text and HTML (a failure carries the error and the stderr tail; a summary lists every step).
import type { WatchEvent } from '../../../store/events';
import { factsOf, isFailure, nextStepsOf, stepRowsOf, stillFailingLine, subjectOf } from './describe';
import { htmlEscape } from './render';
import { renderTemplate, type MessageTemplate } from './template';

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

export function emailContent(e: WatchEvent, subjectPrefix = '', template: MessageTemplate = {}): EmailContent {
  const subject = `${subjectPrefix}${template.subject ? renderTemplate(template.subject, e).replace(/\s+/g, ' ') : subjectOf(e)}`;
  if (template.text) {
    // A template replaces the body: the same text in both parts, HTML-escaped in the HTML one.
    const text = renderTemplate(template.text, e);
    const html =
      `<!doctype html><html><body><div ` +
      `style="font-family:system-ui,sans-serif;white-space:pre-wrap">${renderTemplate(template.text, e, htmlEscape)}</div></body></html>`;
    return { subject, text: `${text}\n\n-- steprun-watch, event ${e.id}\n`, html };
  }
  const short = stillFailingLine(e);
  if (short) {
    // renotify: update — the receiver has the full message of this alert already.
    return { subject, text: `${short}\n\n-- steprun-watch, event ${e.id}\n`, html: `<!doctype html><html><body><p>${htmlEscape(short)}</p></body></html>` };
  }
  const facts = factsOf(e);
  const rows = stepRowsOf(e);
  const commands = nextStepsOf(e);
  const width = Math.max(...facts.map(([k]) => k.length));
  const text = [
    subjectOf(e),
    '',
    ...facts.map(([k, v]) => `${k.padEnd(width)}  ${v}`),
    ...(e.stderrTail ? ['', 'stderr (last lines):', ...e.stderrTail.split('\n').map((l) => `  ${l}`)] : []),
    ...(rows.length ? ['', 'Steps:', ...rows.map((r) => `  ${r[0].padEnd(24)} ${r[1].padEnd(10)} ${r[2].padEnd(10)} ${r[3]}`)] : []),
    ...(e.links?.length ? ['', 'Links:', ...e.links.map((l) => `  ${l.label}: ${l.url}`)] : []),
    '',
    'To look closer:',
    ...commands.map((c) => `  ${c}`),
    '',
    `-- steprun-watch, event ${e.id}`,
    '',
  ].join('\n');
  const color = isFailure(e) ? '#b42318' : '#067647';
  const html = [
    '<!doctype html><html><body style="font-family:system-ui,sans-serif;font-size:14px">',
    `<h2 style="color:${color};margin:0 0 12px">${htmlEscape(subjectOf(e))}</h2>`,
    '<table cellpadding="4" style="border-collapse:collapse">',
    ...facts.map(([k, v]) => `<tr><th align="left" valign="top">${htmlEscape(k)}</th><td>${htmlEscape(v)}</td></tr>`),
    '</table>',
    ...(e.stderrTail ? ['<h3>stderr (last lines)</h3>', `<pre style="background:#f4f4f4;padding:8px">${htmlEscape(e.stderrTail)}</pre>`] : []),
    ...(rows.length
      ? [
          '<h3>Steps</h3><table cellpadding="4" border="1" style="border-collapse:collapse"><tr><th>Step</th><th>Status</th><th>Duration</th><th></th></tr>',
          ...rows.map((r) => `<tr>${r.map((c) => `<td>${htmlEscape(c)}</td>`).join('')}</tr>`),
          '</table>',
        ]
      : []),
    ...(e.links?.length ? [`<p>${e.links.map((l) => `<a href="${htmlEscape(l.url)}">${htmlEscape(l.label)}</a>`).join(' · ')}</p>`] : []),
    '<h3>To look closer</h3>',
    `<pre>${htmlEscape(commands.join('\n'))}</pre>`,
    `<p style="color:#667085">steprun-watch, event ${htmlEscape(e.id)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}
