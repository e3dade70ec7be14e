// The shapes some Lua commands take (scripts.ts): a poll's transitions, the runs an experiment track found, a record's fields.

/** One transition of a poll: compare-and-set `field` from `expected` to `next`, appending `eventJson`. */
export interface CasTransition {
  field: string;
  expected: string;
  next: string;
  eventJson: string;
  stuck?: StuckNote;
}

/** A transition's stuck deadline, written with it: set (`deadline` and its `facts`), or dropped (the step ended). */
export interface StuckNote {
  member: string;
  deadline?: number;
  facts?: string;
}

/** A pipeline run an experiment track found, with the track that will watch it. */
export interface FoundRun {
  pipelineRunId: string;
  createdMs: number;
  childTrackId: string;
  childJson: string;
}

/** A delivery record's fields at creation (status is `pending` unless given). */
export type DeliveryFields = Record<string, string | number>;

/** An alert joining its incident group (`member`), or a touch asking the group for a flush (no member). */
export interface IncidentJoinArgs {
  groupId: string;
  now: number;
  member?: { key: string; openedBy: string };
  /** A held route: not before then (ms). */
  notBefore?: number;
  /** A new group's first alert's time, which starts its wait (at most now): when the watcher saw it. */
  since?: number;
  /** The group's settings, field by field (a join). */
  settings?: Record<string, string | number>;
}
