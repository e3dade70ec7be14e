// A daemon connection sends the commands of one turn of the event loop in one socket write (runtime/coalesced-writes.ts), and that
// changes nothing else: every command answers, in order, and a reconnect's new socket is coalesced too.
import type { Redis } from 'ioredis';
import type { Socket } from 'node:net';
import { connectRedis } from '../../src/runtime/redis';
import { REDIS_URL, uniquePrefix } from '../support/redis';

const prefix = uniquePrefix('coalesce');
let redis: Redis;

beforeEach(async () => {
  redis = connectRedis({ target: { url: REDIS_URL }, mode: 'daemon', name: 'srw-test' });
  await redis.ping();
});
afterEach(async () => {
  await redis.del(`${prefix}:n`);
  redis.disconnect();
});

/** How many times the connection's socket wrote while `work` ran. */
async function socketWrites(work: () => Promise<unknown>): Promise<number> {
  const socket = (redis as unknown as { stream: Socket & { _write: unknown; _writev: unknown } }).stream;
  let writes = 0;
  for (const method of ['_write', '_writev'] as const) {
    const original = socket[method] as (...args: unknown[]) => void;
    socket[method] = (...args: unknown[]) => {
      writes++;
      return original.apply(socket, args);
    };
  }
  await work();
  return writes;
}

async function hundredCommands(): Promise<number[]> {
  const sent: Promise<number>[] = [];
  for (let i = 0; i < 100; i++) sent.push(redis.incr(`${prefix}:n`));
  return Promise.all(sent);
}

it("a turn's hundred commands go in one write, and each answers in order", async () => {
  let answers: number[] = [];
  const writes = await socketWrites(async () => (answers = await hundredCommands()));
  expect(writes).toBe(1);
  expect(answers).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
});

it("a reconnect's new socket is coalesced too", async () => {
  const ready = new Promise((r) => redis.once('ready', r));
  redis.disconnect(true);
  await ready;
  let answers: number[] = [];
  const writes = await socketWrites(async () => (answers = await hundredCommands()));
  expect(writes).toBe(1);
  expect(answers.at(-1)).toBe(100);
});
