// What the API server is given by the daemon, and the shape of a route handler.
import type { Scripts } from '../store/scripts';
import type * as http from 'node:http';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AlertStore } from '../alerts/alert-store';
import type { IncidentStore } from '../alerts/incidents';
import type { SilenceStore } from '../alerts/silences';
import type { Clock } from '../util/clock';
import type { AlertPolicy } from '../alerts/decide';
import type { Logger } from '../util/logger';
import type { AuthLimits } from './auth-limiter';
import type { Metrics } from './metrics';
import type { DeliveryStore } from '../store/deliveries';
import type { RunProvider } from '../model/provider';
import type { Keys } from '../store/keys';
import type { HintRouter } from '../watch/hints';
import type { People } from './auth/people';

export interface ApiDeps {
  redis: Redis;
  keys: Keys;
  clock: Clock;
  providers: Map<string, RunProvider>;
  deliveries: DeliveryStore;
  deliverQueue: Queue;
  metrics: Metrics;
  logger: Logger;
  /** Who requests are and what they may do: sessions, API tokens, the sign-in, the audit log (auth/people.ts). */
  people: People;
  /** Host names (besides the listen address and loopback names) that requests may be addressed to. */
  allowedHosts?: string[];
  /** Server-Sent Events clients at most; more get 429. */
  maxStreamClients?: number;
  /** What the alert decision reads, for `POST /routes/test`. */
  policy?: AlertPolicy;
  alerts?: AlertStore;
  /** Incident groups: an acknowledgement from anywhere asks its groups to flush (the pager hears of it). */
  incidents?: IncidentStore;
  silences?: SilenceStore;
  /** The connection's scripts (the daemon's one); the API's track store uses them. */
  scripts?: Scripts;
  /** What the hooks verify: Event Grid's pushed change hints, PagerDuty's and Slack's webhooks (config `api`). */
  hooks?: { eventGrid?: EventGridHook; pagerDuty?: { secrets: string[] }; slack?: { signingSecret: string; responseUrlPrefixes?: string[] } };
  hints?: HintRouter;
  /** Where Redis is, for errors (a masked URL, or the cluster's nodes). */
  redisWhere?: string;
  /** Serve only /healthz, /readyz and /metrics (a worker-only process). */
  healthOnly?: boolean;
  /** Redis answers and the workers run. */
  ready(): Promise<boolean>;
  /** Failed credentials allowed per client address before 429 (default: 10 a minute). */
  authLimits?: AuthLimits;
  /** Set by the server: a route that refuses a credential itself (the sign-in form) reports it here. */
  authFailed?(req: http.IncomingMessage): void;
}

/** POST /hooks/eventgrid: Event Grid's run events for one azureml provider instance, and the secret its URL carries. */
export interface EventGridHook {
  provider: string;
  secret: string;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, params: Record<string, string>, url: URL) => Promise<void>;
