// One socket write per tick of a connection's commands. ioredis writes each command to its socket as it is sent: a
// system call each. In a burst (a storm's thousand group additions, opened alerts, incident joins, all sent without
// waiting each) those calls were the daemon's largest single CPU cost (a fifth of its busy time, profiled). Corking the
// socket until the end of the tick sends the tick's commands in one write: the same bytes, in the same order, so
// nothing about replies, pipelines, scripts or blocking reads changes.
import type { Redis } from 'ioredis';
import type { Duplex } from 'node:stream';

const COALESCING = Symbol('srw.coalescing');

type Coalesced = Duplex & { [COALESCING]?: true };

/** Corks a socket at its first write of a tick and uncorks it when the tick's work is done. */
function coalesce(stream: Coalesced): void {
  if (stream[COALESCING]) return;
  stream[COALESCING] = true;
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    stream.uncork();
  };
  stream.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      stream.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as Duplex['write'];
}

/** Coalesces the connection's writes, on its socket of now and on each one a reconnect makes. */
export function coalesceWrites(redis: Redis): void {
  const current = (): void => {
    const stream = (redis as unknown as { stream?: Coalesced }).stream;
    if (stream) coalesce(stream);
  };
  redis.on('connect', current);
  current();
}
