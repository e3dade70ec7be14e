// HTML built by a tagged template that escapes every value: a page cannot be broken into by what it shows
// (step names, error messages and stderr come from pipelines, i.e. from anyone who can start one).

/** Markup that is already safe (built by `html` itself): inserted as is. */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

type Value = SafeHtml | string | number | boolean | null | undefined | Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** `html\`<td>${name}</td>\``: strings are escaped, arrays joined, SafeHtml kept, null/undefined/false dropped. */
export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((v, i) => (out += render(v) + strings[i + 1]!));
  return new SafeHtml(out);
}

/** A query string from the given parameters, skipping empty ones. */
export function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => !!e[1]));
  const text = q.toString();
  return text ? `?${text}` : '';
}

export function timeAgo(ms: number | undefined, now: number): string {
  if (!ms) return '—';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** A table with one header row (an empty label is an "Actions" column, named for screen readers), or `empty`. */
export function table(o: { head: string[]; rows: SafeHtml[]; empty: string | SafeHtml; caption?: string }): SafeHtml {
  if (o.rows.length === 0) return o.empty === '' ? html`` : html`<p>${o.empty}</p>`;
  const th = (label: string) => html`<th scope="col">${label || html`<span class="sr-only">Actions</span>`}</th>`;
  return html`<table>
    ${
      o.caption
        ? html`<caption class="sr-only">
            ${o.caption}
          </caption>`
        : ''
    }
    <thead>
      <tr>
        ${o.head.map(th)}
      </tr>
    </thead>
    <tbody>
      ${o.rows}
    </tbody>
  </table>`;
}
