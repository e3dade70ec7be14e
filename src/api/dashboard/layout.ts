// The frame of every dashboard page: navigation, the live-update hook, the built assets (no CDN, no outside fonts).
import type { Identity } from '../auth/roles';
import { html, type SafeHtml } from './html';

export const NAV = [
  { href: '/ui/', label: 'Runs' },
  { href: '/ui/events', label: 'Events' },
  { href: '/ui/alerts', label: 'Alerts & silences' },
  { href: '/ui/deliveries', label: 'Deliveries' },
  { href: '/ui/metrics', label: 'Metrics' },
  { href: '/ui/audit', label: 'Audit' },
] as const;

/**
 * A whole page. `live` marks a page the client script refreshes when an event arrives (Server-Sent Events): it
 * fetches the same URL again and swaps `<main>`, so the tables stay server-rendered and work without JavaScript.
 */
export function page(o: { title: string; path: string; body: SafeHtml; live?: boolean; signedIn?: Identity; refreshTo?: string }): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${o.title} · steprun-watch</title>
        <link rel="icon" href="data:," />
        ${o.refreshTo ? html`<meta http-equiv="refresh" content="0;url=${o.refreshTo}" />` : ''}
        <link rel="stylesheet" href="/ui/assets/app.css" />
        <script type="module" src="/ui/assets/app.js"></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header>
          <span class="brand">steprun-watch</span>
          <nav aria-label="Dashboard">
            ${NAV.map((n) => html`<a href="${n.href}" ${isActive(n.href, o.path) ? html` aria-current="page"` : ''}>${n.label}</a>`)}
          </nav>
          <span class="live-badge" id="live-badge" role="status" aria-live="polite"></span>
          ${
            o.signedIn
              ? html`<span class="who" data-signed-in-as="${o.signedIn.name}" data-role="${o.signedIn.role}">${o.signedIn.name} (${o.signedIn.role})</span>
                  <form method="post" action="/ui/logout" class="logout"><button type="submit">Sign out</button></form>`
              : ''
          }
        </header>
        <main id="main" tabindex="-1" ${o.live ? html` data-live="true"` : ''}>
          <h1>${o.title}</h1>
          ${o.body}
        </main>
      </body>
    </html> `.text;
}

function isActive(href: string, path: string): boolean {
  return href === '/ui/' ? path === '/ui/' || path.startsWith('/ui/runs/') : path.startsWith(href);
}
