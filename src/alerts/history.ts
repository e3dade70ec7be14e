// What happened to one event: its delivery records, found by the ids they were given (no index to keep on the hot
// path): one per notifier, the group generation it joined, and each repeat of the alert it opened.
import type { Redis } from 'ioredis';
import type { DeliveryRecord, DeliveryStore } from '../store/deliveries';
import type { WatchEvent } from '../store/events';
import { deliveryId, groupDeliveryId, groupId, repeatDeliveryId } from '../store/ids';
import type { Keys } from '../store/keys';
import { fieldOf } from './alert-key';
import type { AlertPolicy } from './decide';

/** Repeats looked up per notifier at most. */
const MAX_REPEATS = 200;

export async function deliveryHistory(redis: Redis, keys: Keys, deliveries: DeliveryStore, policy: AlertPolicy, e: WatchEvent): Promise<DeliveryRecord[]> {
  const notifiers = new Set<string>([...policy.routes.flatMap((r) => r.notify), ...(e.alert?.notifiers ?? [])]);
  const ids = [...notifiers].map((n) => deliveryId(e.id, n));
  // The group generation it joined, for every route that could group it (the routes as they are now).
  for (const [index, route] of policy.routes.entries()) {
    for (const notifier of route.notify) {
      const group = route.group ?? policy.defaultGroups.get(notifier);
      if (!group) continue;
      const gid = groupId(
        index,
        notifier,
        group.by.map((f) => fieldOf(e, f) ?? '-'),
      );
      const generation = await redis.hget(keys.group(gid), `e:${e.id}`);
      if (generation) ids.push(groupDeliveryId(gid, Number(generation), notifier));
    }
  }
  const found: DeliveryRecord[] = [];
  for (const id of new Set(ids)) {
    const record = await deliveries.get(id);
    if (record) found.push(record);
  }
  for (const notifier of notifiers) {
    for (let n = 1; n <= MAX_REPEATS; n++) {
      const record = await deliveries.get(repeatDeliveryId(e.id, notifier, n));
      if (!record) break;
      found.push(record);
    }
  }
  return found.sort((a, b) => a.createdAt - b.createdAt);
}
