// A webhook receiver for the benchmarks that watch many changes: for each step event (step run and type), when it
// first arrived and what the daemon said of it (its id, when it was detected), counted by type as they come.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Arrival {
  at: number;
  /** The event's id (its delivery records are named after it) and when the daemon committed it. */
  eventId: string;
  detectedAt: number;
}

interface StepEvent {
  id: string;
  type: string;
  detectedAt: number;
  stepRun?: { stepRunId: string };
}

export class Arrivals {
  /** By `<stepRunId> <type>`: the first arrival. */
  readonly at = new Map<string, Arrival>();
  /** Arrivals by event type, counted as they come: a first round's wait asks often, at a million entries. */
  private readonly byType = new Map<string, number>();
  /** Every POST received, repeats included. */
  posted = 0;
  private server?: http.Server;

  async start(): Promise<string> {
    this.server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.note((JSON.parse(Buffer.concat(chunks).toString()) as { data: StepEvent }).data);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  private note(event: StepEvent): void {
    this.posted++;
    if (!event.stepRun) return;
    const key = `${event.stepRun.stepRunId} ${event.type}`;
    if (this.at.has(key)) return;
    this.byType.set(event.type, (this.byType.get(event.type) ?? 0) + 1);
    this.at.set(key, { at: Date.now(), eventId: event.id, detectedAt: event.detectedAt });
  }

  count(type: string): number {
    return this.byType.get(type) ?? 0;
  }

  reset(): void {
    this.at.clear();
    this.byType.clear();
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}
