// PagerDuty's REST API, read-only: the incidents a service holds open (GET /incidents), as its documentation shapes
// them — classic pagination (`limit`, `offset`, `more`), `incident_key` (the Events API's dedup_key) — waiting out a
// 429 as its Retry-After says. https://developer.pagerduty.com/api-reference/9d0b4b12e36f9-list-incidents
import { DeliveryError } from '../../model/errors';
import { retryAfterMs } from '../../util/retry-after';

export interface PagerDutyApiOptions {
  /** A read-only REST API key (from the environment). */
  token: string;
  serviceId: string;
  /** https://api.pagerduty.com unless a test or a proxy says otherwise. */
  url: string;
}

export interface OpenIncident {
  id: string;
  key: string;
  status: 'triggered' | 'acknowledged';
}

const PAGE = 100;
/** 429s waited out per listing at most; a Retry-After longer than this is not waited for. */
const MAX_WAITS = 5;
const MAX_WAIT_MS = 60_000;

/** Every incident of the service that is triggered or acknowledged, all pages. */
export async function openIncidents(api: PagerDutyApiOptions, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<OpenIncident[]> {
  const found: OpenIncident[] = [];
  let waits = 0;
  for (let offset = 0; ;) {
    const url = new URL('/incidents', api.url);
    url.searchParams.append('service_ids[]', api.serviceId);
    url.searchParams.append('statuses[]', 'triggered');
    url.searchParams.append('statuses[]', 'acknowledged');
    url.searchParams.set('limit', String(PAGE));
    url.searchParams.set('offset', String(offset));
    const res = await fetch(url, {
      headers: { authorization: `Token token=${api.token}`, accept: 'application/vnd.pagerduty+json;version=2' },
      signal: AbortSignal.timeout(15_000),
    });
    if (res.status === 429 && waits < MAX_WAITS) {
      const wait = retryAfterMs(res.headers) ?? 1000 * 2 ** waits;
      if (wait > MAX_WAIT_MS) throw new DeliveryError(`PagerDuty REST API: rate limited for ${Math.round(wait / 1000)}s`, { retryable: true });
      waits++;
      await sleep(wait);
      continue;
    }
    if (!res.ok)
      throw new DeliveryError(`PagerDuty REST API: HTTP ${res.status} for GET /incidents (${(await res.text()).slice(0, 200)})`, {
        retryable: res.status >= 500,
      });
    const page = (await res.json()) as { incidents?: { id: string; incident_key?: string | null; status: string }[]; more?: boolean };
    for (const i of page.incidents ?? []) {
      if (i.incident_key && (i.status === 'triggered' || i.status === 'acknowledged')) found.push({ id: i.id, key: i.incident_key, status: i.status });
    }
    if (!page.more || !page.incidents?.length) return found;
    offset += page.incidents.length;
  }
}
