// The dispatcher's jobs for one read of the events stream, with the plain deliveries of each notifier put together:
// one job per notifier and batch instead of one per delivery (BullMQ's add, fetch and finish are the largest cost of
// a delivery at saturation). A held, grouped or lone delivery, and a message about an alert, keep their own job.
import { alertActionOf } from '../../alerts/alert-key';
import type { WatchEvent } from '../../store/events';
import { batchJobId } from '../../store/ids';
import type { BatchDeliveryData, SingleDeliveryData } from '../deliver/delivery-job';

export interface PlannedJob {
  name: string;
  data: SingleDeliveryData | BatchDeliveryData;
  opts: { jobId: string; delay?: number };
}

/** Deliveries per batch job at most: enough to amortize, few enough that one slow receiver holds back little. */
export const MAX_BATCH = 50;

/** A message about an alert is decided again as it goes out (deliver.ts): it keeps a job of its own. */
function decidedAtSend(e: WatchEvent): boolean {
  return e.type === 'alert.resolved' || (e.alertKey !== undefined && alertActionOf(e) === 'open');
}

export function batchJobs(jobs: PlannedJob[], max = MAX_BATCH): PlannedJob[] {
  const out: PlannedJob[] = [];
  const plain = new Map<string, PlannedJob[]>();
  for (const job of jobs) {
    const data = job.data as SingleDeliveryData;
    if (job.opts.delay || data.group || !data.event || 'batch' in job.data || decidedAtSend(data.event)) out.push(job);
    else {
      const list = plain.get(data.notifier);
      if (list) list.push(job);
      else plain.set(data.notifier, [job]);
    }
  }
  for (const [notifier, list] of plain) {
    for (let i = 0; i < list.length; i += max) {
      const chunk = list.slice(i, i + max);
      if (chunk.length === 1) {
        out.push(chunk[0]!);
        continue;
      }
      const batch = chunk.map((j) => ({ deliveryId: (j.data as SingleDeliveryData).deliveryId, event: (j.data as SingleDeliveryData).event! }));
      out.push({ name: notifier, data: { notifier, batch }, opts: { jobId: batchJobId(batch.map((b) => b.deliveryId)) } });
    }
  }
  return out;
}
