// The dispatcher's alert steps (notify/dispatch/plan.ts runByKey): one alert key's steps in event order, different
// keys' at once, and a failure thrown only once every step has settled (a retried read never overlaps this one).
import { runByKey } from '../../src/notify/dispatch/plan';

const tick = () => new Promise((r) => setImmediate(r));

describe('runByKey', () => {
  it('runs one key’s steps in order and another key’s meanwhile', async () => {
    const log: string[] = [];
    let releaseA!: () => void;
    const aBlocked = new Promise<void>((r) => (releaseA = r));
    const done = runByKey([
      { key: 'A', run: async () => (await aBlocked, void log.push('A1')) },
      { key: 'B', run: async () => void log.push('B1') },
      { key: 'A', run: async () => void log.push('A2') },
      { key: 'B', run: async () => void log.push('B2') },
    ]);
    await tick();
    expect(log).toEqual(['B1', 'B2']); // B did not wait for A's first step
    releaseA();
    await done;
    expect(log).toEqual(['B1', 'B2', 'A1', 'A2']);
  });

  it('throws the first failure after every other step settled, and stops that key’s chain', async () => {
    const log: string[] = [];
    const outcome = runByKey([
      { key: 'A', run: () => Promise.reject(new Error('A1 failed')) },
      { key: 'A', run: async () => void log.push('A2') },
      { key: 'B', run: async () => (await tick(), await tick(), void log.push('B1')) },
    ]);
    await expect(outcome).rejects.toThrow('A1 failed');
    expect(log).toEqual(['B1']);
  });
});
