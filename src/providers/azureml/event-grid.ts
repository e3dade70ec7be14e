// Azure ML's Event Grid events read as change hints (docs/PROVIDERS.md, "Event Grid"). Both delivery schemas (Event
// Grid and CloudEvents 1.0), single events and batches. Data keys and runStatus are read case-insensitively: the
// documented samples say `RunId` and `RunTags`, other public samples `runId` and `runTags`.
import type { ChangedRun } from '../../model/provider';

export const VALIDATION_EVENT = 'Microsoft.EventGrid.SubscriptionValidationEvent';
const RUN_EVENTS = new Set(['microsoft.machinelearningservices.runstatuschanged', 'microsoft.machinelearningservices.runcompleted']);
/** The tags (or properties) a step run of a pipeline carries with its pipeline run's id. */
const PIPELINE_RUN_TAGS = ['azureml.pipelinerunid', 'azureml.pipeline'];

export interface EventGridDelivery {
  /** Set when the delivery is Event Grid's subscription handshake: answer `{ validationResponse: code }`. */
  validationCode?: string;
  /** The runs the delivery's Azure ML run events name (other event types are ignored). */
  runs: ChangedRun[];
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A property by name, whatever its casing. */
function field(o: Json, name: string): unknown {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(o)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The event's data: `data` in both schemas; CloudEvents may carry it base64-encoded in `data_base64`. */
function dataOf(event: Json): Json {
  if (isObject(event.data)) return event.data;
  if (typeof event.data_base64 === 'string') {
    try {
      const decoded: unknown = JSON.parse(Buffer.from(event.data_base64, 'base64').toString('utf8'));
      if (isObject(decoded)) return decoded;
    } catch {
      // not JSON: no data
    }
  }
  return {};
}

/** One Azure ML run event as the run it names: a step run leads to its pipeline run through its tags. */
export function runOfEvent(event: Json): ChangedRun | undefined {
  const type = text(event.eventType) ?? text(event.type);
  if (!type || !RUN_EVENTS.has(type.toLowerCase())) return undefined;
  const data = dataOf(event);
  // The subject is `experiments/{experimentId}/runs/{runId}` in both schemas.
  const runId = text(field(data, 'runId')) ?? /\/runs\/([^/]+)$/.exec(text(event.subject) ?? '')?.[1];
  if (!runId) return undefined;
  const tags = field(data, 'runTags');
  const properties = field(data, 'runProperties');
  const pipelineRunId = [tags, properties]
    .filter(isObject)
    .flatMap((o) => PIPELINE_RUN_TAGS.map((tag) => text(field(o, tag))))
    .find((id) => id !== undefined);
  const experiment = text(field(data, 'experimentName'));
  // A run without a pipeline tag is a pipeline run itself (or a run we can only find by its own id).
  return pipelineRunId && pipelineRunId !== runId ? { experiment, pipelineRunId, stepRunId: runId } : { experiment, pipelineRunId: runId, stepRunId: runId };
}

/** Reads a webhook or queue delivery: one event or an array of them, in either schema. */
export function readEventGridDelivery(body: unknown): EventGridDelivery {
  const events = (Array.isArray(body) ? body : [body]).filter(isObject);
  const validation = events.find((e) => (text(e.eventType) ?? text(e.type)) === VALIDATION_EVENT);
  const validationCode = validation ? text(field(dataOf(validation), 'validationCode')) : undefined;
  const runs = events.map(runOfEvent).filter((r): r is ChangedRun => r !== undefined);
  return { ...(validationCode ? { validationCode } : {}), runs };
}
