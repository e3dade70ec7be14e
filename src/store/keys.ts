// Every Redis key name of the watcher, built here and nowhere else: `{prefix}:...`, one hash tag per deployment.

export class Keys {
  /** `{srw}`: the braces make Redis Cluster keep a deployment's keys in one slot, so scripts may touch several. */
  readonly tag: string;

  constructor(prefix: string) {
    this.tag = `{${prefix}}`;
  }

  /** BullMQ's own prefix: its keys share the hash tag. */
  get bullPrefix(): string {
    return this.tag;
  }

  /** HASH: the track record (json) and its poll bookkeeping. */
  track(trackId: string): string {
    return `${this.tag}:track:${trackId}`;
  }

  /** SET of every track id. */
  get tracks(): string {
    return `${this.tag}:tracks`;
  }

  /** SET of tracks whose polls keep failing (a track.error was raised), for metrics and `tracks`. */
  get failing(): string {
    return `${this.tag}:failing`;
  }

  /** ZSET per provider instance: track id -> next poll time (ms). */
  due(provider: string): string {
    return `${this.tag}:due:${provider}`;
  }

  /** HASH: last seen status of each step of a track (`seq|status`), and `@pipeline`. */
  state(trackId: string): string {
    return `${this.tag}:state:${trackId}`;
  }

  /** ZSET: pipeline runs an experiment track has seen (member id, score created ms). */
  seen(trackId: string): string {
    return `${this.tag}:seen:${trackId}`;
  }

  /** STREAM: the outbox of events. */
  get events(): string {
    return `${this.tag}:events`;
  }

  /** HASH: one delivery (event x notifier): status, attempts, last error. It is the delivered marker. */
  delivery(deliveryId: string): string {
    return `${this.tag}:delivery:${deliveryId}`;
  }

  /** ZSET: recent deliveries by last update time. */
  get deliveries(): string {
    return `${this.tag}:deliveries`;
  }

  /** ZSET: dead letters (deliveries that failed their last attempt) by time. */
  get deadLetters(): string {
    return `${this.tag}:dead`;
  }

  /** HASH: one open alert (key, when and by what it opened, `n:<notifier>` for each notifier sent it). */
  alert(alertId: string): string {
    return `${this.tag}:alert:${alertId}`;
  }

  /** ZSET of open alerts: alert id -> opened at (ms). Bounded: the oldest are dropped past the limit. */
  get alerts(): string {
    return `${this.tag}:alerts`;
  }

  /** ZSET of repeats due: `<alert id>|<notifier>|<every ms>` -> next send time (ms). */
  get alertRepeats(): string {
    return `${this.tag}:alert-repeats`;
  }

  /** ZSET of open alerts kept from a notifier never told of them (silenced, inhibited): `<alert id>|<notifier>` -> next look. */
  get alertsMuted(): string {
    return `${this.tag}:alerts-muted`;
  }

  /** LIST: the last Finished durations (ms) of one step name in one experiment: what "stuck" is learned from. */
  durations(provider: string, experiment: string, step: string): string {
    return `${this.tag}:durations:${provider}:${experiment}:${step}`;
  }

  /** ZSET of stuck deadlines: `<track id>|<step run id>` -> when the step is stuck unless it moved on (ms). */
  get stuck(): string {
    return `${this.tag}:stuck`;
  }

  /** HASH: what each stuck deadline watches (member -> json). */
  get stuckInfo(): string {
    return `${this.tag}:stuck-info`;
  }

  /** ZSET of experiment tracks with `expect`: track id -> when to check that a run started (ms). */
  get expect(): string {
    return `${this.tag}:expect`;
  }

  /** STREAM: entries of the events stream that were not events (the dispatcher keeps them here, not silently dropped). */
  get deadEvents(): string {
    return `${this.tag}:events-dead`;
  }

  /** HASH of silences: id -> json. */
  get silences(): string {
    return `${this.tag}:silences`;
  }

  /** HASH: a notification group's current generation, its flush time and whether it was closed. */
  group(groupId: string): string {
    return `${this.tag}:group:${groupId}`;
  }

  /** LIST: the events of one generation of a group, in arrival order. */
  groupEvents(groupId: string, generation: number): string {
    return `${this.tag}:group:${groupId}:${generation}`;
  }

  /** HASH: an incident group (route, notifier, group-by values): its settings, first alert and last flush times. */
  incident(groupId: string): string {
    return `${this.tag}:incident:${groupId}`;
  }

  /** HASH: the alerts of an incident group: alert key -> the event that opened it. */
  incidentMembers(groupId: string): string {
    return `${this.tag}:incident:${groupId}:members`;
  }

  /** HASH: the notification log of an incident group: what its receiver was last sent, and a message being sent. */
  incidentLog(groupId: string): string {
    return `${this.tag}:incident:${groupId}:log`;
  }

  /** STRING with a lifetime: an open dashboard session (by a digest of its id), naming the token it was opened with. */
  session(digest: string): string {
    return `${this.tag}:session:${digest}`;
  }

  /** STRING with a lifetime: held while one flush of the group runs. */
  incidentLock(groupId: string): string {
    return `${this.tag}:incident:${groupId}:lock`;
  }

  /** ZSET of live incident groups: group id -> when it is flushed next (ms). */
  get incidentsDue(): string {
    return `${this.tag}:incidents-due`;
  }

  /** HASH: one live (edited in place) chat message of a run for one notifier: its claim, ts and channel. */
  liveMessage(notifier: string, run: string): string {
    return `${this.tag}:live:${notifier}:${run}`;
  }

  /** STRING with a lifetime: set while a change feed keeps sending hints for this provider instance. */
  pushed(provider: string): string {
    return `${this.tag}:pushed:${provider}`;
  }

  /** HASH: API tokens by a digest of the token (never the token) -> their record (json: name, role, expiry). */
  get apiTokens(): string {
    return `${this.tag}:api-tokens`;
  }

  /** HASH: API token name -> the digest it is stored under (names are unique). */
  get apiTokenNames(): string {
    return `${this.tag}:api-token-names`;
  }

  /** STRING with a lifetime: a sign-in under way (its state, nonce and PKCE verifier), by the id its cookie carries. */
  signIn(id: string): string {
    return `${this.tag}:sign-in:${id}`;
  }

  /** STREAM: the audit log, every write through the API and the CLI (who, what, when, from where, result); bounded. */
  get audit(): string {
    return `${this.tag}:audit`;
  }

  /** STRING with a lifetime: a signed webhook request already acted on (its signature's hash), against replays. */
  webhookSeen(source: string, digest: string): string {
    return `${this.tag}:hook-seen:${source}:${digest}`;
  }

  /** Request budget counter of a provider instance for one window. */
  budget(provider: string, window: number): string {
    return `${this.tag}:budget:${provider}:${window}`;
  }
}

/** The consumer group of dispatchers on the events stream. */
export const DISPATCH_GROUP = 'dispatch';
