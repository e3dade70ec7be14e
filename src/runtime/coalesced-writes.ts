// One socket write per turn of the event loop for a connection's commands. ioredis writes each command to its socket
// as it is sent: a system call each (~25 µs on a small VM). In a burst (a storm's thousand group additions, opened
// alerts, incident joins; a thousand hinted polls a second) those calls were the daemon's largest single CPU cost
// (profiled). The socket is corked at the first write and uncorked once every I/O callback ready in this turn has run
// (setImmediate; uncorking at the end of the tick alone left 5 writes per poll): the same bytes, in the same order, so
// nothing about replies, pipelines, scripts or blocking reads changes; a command waits at most the rest of the turn.
import type { Redis } from 'ioredis';
import type { Duplex } from 'node:stream';

const COALESCING = Symbol('srw.coalescing');

type Coalesced = Duplex & { [COALESCING]?: true };

/** Corks a socket at its first write of a turn and uncorks it when the turn's ready callbacks have run. */
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
      setImmediate(uncork);
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
