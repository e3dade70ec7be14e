// The dashboard's client: live refresh of server-rendered pages (Server-Sent Events), and the buttons that write
// (retry a dead letter, add or expire a silence) through the daemon's JSON API. Pages work without it, read-only.
import './style.css';
import { EVENT_TYPES } from '../src/store/events';

const REFRESH_DEBOUNCE_MS = 250;

function main(): HTMLElement | null {
  return document.querySelector<HTMLElement>('main#main');
}

/** Fetches this page again and swaps its <main>: the server renders, the browser only replaces. */
async function refresh(): Promise<void> {
  const res = await fetch(location.href, { headers: { accept: 'text/html' } });
  if (!res.ok) return;
  const next = new DOMParser().parseFromString(await res.text(), 'text/html').querySelector('main#main');
  const current = main();
  if (!next || !current) return;
  const focused = document.activeElement?.closest<HTMLElement>('[data-retry-delivery],[data-expire-silence],[data-ack-alert],a[href]');
  const focusKey = focused
    ? (focused.dataset.retryDelivery ?? focused.dataset.expireSilence ?? focused.dataset.ackAlert ?? focused.getAttribute('href'))
    : undefined;
  current.innerHTML = next.innerHTML;
  if (focusKey) {
    const again = [...current.querySelectorAll<HTMLElement>('[data-retry-delivery],[data-expire-silence],[data-ack-alert],a[href]')].find(
      (el) => (el.dataset.retryDelivery ?? el.dataset.expireSilence ?? el.dataset.ackAlert ?? el.getAttribute('href')) === focusKey,
    );
    again?.focus();
  }
  document.dispatchEvent(new CustomEvent('srw:refreshed'));
}

/** A form being filled in is never wiped by a refresh: the refresh waits until focus leaves it. */
function editing(): boolean {
  const el = document.activeElement;
  return !!el && !!main()?.contains(el) && (el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement);
}

function startLive(): void {
  const el = main();
  if (!el || el.dataset.live !== 'true') return;
  const badge = document.getElementById('live-badge');
  let timer: number | undefined;
  const schedule = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => (editing() ? schedule() : void refresh().catch(() => undefined)), REFRESH_DEBOUNCE_MS);
  };
  const source = new EventSource('/events/stream');
  source.onopen = () => badge && (badge.textContent = '● live');
  source.onerror = () => badge && (badge.textContent = '○ reconnecting');
  for (const type of EVENT_TYPES) source.addEventListener(type, schedule);
  window.addEventListener('pagehide', () => source.close());
}

async function api(method: string, url: string, body?: unknown): Promise<void> {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) {
    const answer = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
    throw new Error(answer.error?.message ?? `${res.status} ${res.statusText}`);
  }
}

function announce(text: string): void {
  const badge = document.getElementById('live-badge');
  if (badge) badge.textContent = text;
}

document.addEventListener('click', (e) => {
  const button = (e.target as HTMLElement).closest<HTMLButtonElement>('[data-retry-delivery],[data-expire-silence],[data-ack-alert]');
  if (!button) return;
  button.disabled = true;
  const { retryDelivery, expireSilence, ackAlert } = button.dataset;
  const call = retryDelivery
    ? api('POST', `/deliveries/${encodeURIComponent(retryDelivery)}/retry`, {}).then(() => announce('retry sent'))
    : ackAlert
      ? api('POST', `/alerts/${encodeURIComponent(ackAlert)}/ack`, { by: 'dashboard' }).then(() => announce('alert acknowledged'))
      : api('DELETE', `/silences/${encodeURIComponent(expireSilence!)}`).then(() => announce('silence expired'));
  // A retry is queued, not sent yet: look again a moment later for its outcome.
  call
    .then(refresh)
    .then(() => retryDelivery && window.setTimeout(() => void refresh().catch(() => undefined), 2000))
    .catch((err: Error) => {
      button.disabled = false;
      announce(err.message);
    });
});

document.addEventListener('submit', (e) => {
  const form = e.target as HTMLFormElement;
  if (form.dataset.api !== 'silence') return;
  e.preventDefault();
  const data = new FormData(form);
  const error = form.querySelector('.form-error');
  api('POST', '/silences', { match: data.get('match'), for: data.get('for'), comment: data.get('comment') || undefined })
    .then(() => {
      form.reset();
      (document.activeElement as HTMLElement | null)?.blur();
      return refresh();
    })
    .then(() => announce('silence added'))
    .catch((err: Error) => {
      if (error) error.textContent = err.message;
    });
});

startLive();
