// The bare baselines of bench:throughput: a webhook receiver counting deliveries by id, and a BullMQ worker
// (concurrency 32) POSTing one job each — the least a "one job per delivery" design costs. Each job carries the body
// the daemon sent for a change (a step event as a CloudEvent) and the worker POSTs it with the daemon's headers: the
// same bytes in Redis and on the wire. The clock starts before the worker does, as the daemon's starts before it is
// created. In the burst the jobs are queued in bulk once the clock runs; live, a writer queues a job for each record
// it writes (it knows what changed).
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { round, until } from './support';

/** A webhook receiver: counts deliveries by id (a repeat is a duplicate). */
export class Receiver {
  readonly seen = new Set<string>();
  /** The first body received (what the daemon sends for a change): bare's jobs carry it. */
  sample?: string;
  duplicates = 0;
  lastAt = 0;
  private server?: http.Server;

  async start(): Promise<string> {
    // Keep-alive on both sides, as a real receiver would.
    this.server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
      if (this.sample === undefined) {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => (this.sample ??= Buffer.concat(chunks).toString('utf8')));
      } else req.resume();
      req.on('end', () => {
        const id = String(req.headers['webhook-id']);
        if (this.seen.has(id)) this.duplicates++;
        else this.seen.add(id);
        this.lastAt = Date.now();
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  reset(): void {
    this.seen.clear();
    this.duplicates = 0;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}

export interface Rate {
  perSecond: number;
  seconds: number;
  duplicates: number;
  /** From the clock's start until the changes were all made (live: the writer's run; burst: the jobs queued). */
  producedSeconds: number;
}

export const BARE_QUEUE = 'bare';
export const barePrefix = (pid: number) => `{tput_bare_${pid}}`;

/** One bare worker posting each job's body to `url`; `produce` queues the jobs once the clock runs. */
async function bareRun(receiver: Receiver, url: string, redisUrl: string, changes: number, produce: (queue: Queue) => Promise<void>): Promise<Rate> {
  const prefix = barePrefix(process.pid);
  receiver.reset();
  const t0 = Date.now();
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(BARE_QUEUE, { connection, prefix });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const post = (id: string, body: string) =>
    new Promise<void>((resolve, reject) => {
      const headers = { 'content-type': 'application/cloudevents+json', 'user-agent': 'bare', 'webhook-id': id };
      const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      req.end(body);
    });
  const worker = new Worker(BARE_QUEUE, (job: Job<{ body: string }>) => post(job.id!, job.data.body), { connection, prefix, concurrency: 32 });
  await produce(queue);
  const producedSeconds = round((Date.now() - t0) / 1000);
  await until(() => receiver.seen.size >= changes, 600_000, 'every bare job posted');
  const seconds = (receiver.lastAt - t0) / 1000;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  agent.destroy();
  connection.disconnect();
  return { perSecond: Math.round(changes / seconds), seconds: round(seconds), duplicates: receiver.duplicates, producedSeconds };
}

/**
 * Burst: the worker runs, the clock starts, and every job is queued in bulk (1,000 at a time) while it works: the
 * jobs' way into the system is part of the run, as reading the changes is part of the daemon's.
 */
export function bareBurst(receiver: Receiver, url: string, redisUrl: string, changes: number, body: string): Promise<Rate> {
  return bareRun(receiver, url, redisUrl, changes, async (queue) => {
    for (let i = 0; i < changes; i += 1000) {
      const n = Math.min(1000, changes - i);
      await queue.addBulk(Array.from({ length: n }, (_, k) => ({ name: 'post', data: { body }, opts: { jobId: `j${i + k}`, removeOnComplete: true } })));
    }
  });
}

/** Live: the clock starts with `writer`, a child process that writes the records and queues one job (carrying `body`) for each. */
export function bareLive(receiver: Receiver, url: string, redisUrl: string, changes: number, writer: () => Promise<void>): Promise<Rate> {
  return bareRun(receiver, url, redisUrl, changes, () => writer());
}

/** Runs this bench's file as a child (`--flip ...`), resolving when it exits 0. */
export function child(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [file, ...args], { stdio: 'inherit' });
    c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(' ')} exited ${code}`))));
  });
}
