// The wrappers of the outbox's and deliveries' scripts, the lock release and a live message's rows.
import type { Arg } from './script-files';
import type { DeliveryFields } from './script-args';
import { TrackScripts } from './track-scripts';

export abstract class OutboxScripts extends TrackScripts {
  /** Trims the outbox to about `maxLen` entries, never past what the dispatch group has not finished; returns how many went. */
  async trimOutbox(a: { group: string; maxLen: number }): Promise<number> {
    return this.call<number>('trimOutbox', [this.keys.events], [a.group, a.maxLen]);
  }

  /** Compare-and-set of one hash field with its event; true when the event was appended. */
  async casAppend(a: { hash: string; field: string; expected: string; next: string; eventJson: string }): Promise<boolean> {
    return (await this.call<number>('casAppend', [a.hash, this.keys.events], [a.field, a.expected, a.next, a.eventJson])) === 1;
  }

  /**
   * Creates the delivery records that do not exist yet, in one call; keeps `keep.recent` of them indexed, and forgets
   * a final one past those `keep.finalMs` after it last changed (see ensureDeliveries-1.lua). Returns how many it made.
   */
  async ensureDeliveries(records: { id: string; fields: DeliveryFields }[], now: number, keep: { recent: number; finalMs: number }): Promise<number> {
    const argv: Arg[] = [now, keep.recent, this.keys.delivery(''), keep.finalMs];
    for (const r of records) {
      const fields = Object.entries(r.fields);
      argv.push(r.id, fields.length * 2);
      for (const [field, value] of fields) argv.push(field, value);
    }
    return this.call<number>('ensureDeliveries', [this.keys.deliveries], argv);
  }

  /** Marks deliveries delivered (see markDelivered-2.lua), in one call. */
  async markDelivered(items: { id: string; detail?: string }[], attempt: number, now: number): Promise<void> {
    const argv: Arg[] = [now, attempt, this.keys.delivery('')];
    for (const { id, detail } of items) argv.push(id, detail ?? '');
    await this.call<number>('markDelivered', [this.keys.deliveries, this.keys.deadLetters], argv);
  }

  /** Claims the deliveries a job may send now (see claimDeliveries-1.lua); returns their ids. */
  async claimDeliveries(a: { ids: string[]; token: string; now: number; leaseMs: number }): Promise<string[]> {
    const k = this.keys;
    return this.call<string[]>('claimDeliveries', [k.deliveries], [a.now, a.leaseMs, a.token, k.delivery(''), ...a.ids]);
  }

  /** Releases a lock the caller holds under `token`; false when it no longer held it. */
  async releaseLock(a: { key: string; token: string }): Promise<boolean> {
    return (await this.call<number>('releaseLock', [a.key], [a.token])) === 1;
  }

  /** Takes over a live message whose poster died before posting; true when taken. */
  async claimLiveMessage(a: { notifier: string; run: string; claimRead: string; now: number }): Promise<boolean> {
    return (await this.call<number>('claimLiveMessage', [this.keys.liveMessage(a.notifier, a.run)], [a.claimRead, a.now])) === 1;
  }

  /** Puts one row of a live message unless a later state of it is there; returns every row. */
  async putLiveRow(a: { notifier: string; run: string; rowId: string; text: string; rank: number; keepSeconds: number }): Promise<string[]> {
    const message = this.keys.liveMessage(a.notifier, a.run);
    return this.call<string[]>('putLiveRow', [`${message}:rows`, `${message}:rows:rank`], [a.rowId, a.text, a.rank, a.keepSeconds]);
  }
}
