// The logger's helpers: a lazy child logger is made only when used, and logs with its bindings (redacted as any line).
import { Writable } from 'node:stream';
import { createLogger, lazyChild } from '../../src/util/logger';

function capture(): { lines: Record<string, unknown>[]; destination: Writable } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, destination };
}

it('lazyChild makes no child until a line is logged, then logs with the bindings like a child would', () => {
  const { lines, destination } = capture();
  const parent = createLogger({ level: 'info', pretty: false, destination });
  let made = 0;
  const child = parent.child.bind(parent);
  parent.child = ((...a: Parameters<typeof parent.child>) => {
    made++;
    return child(...a);
  }) as typeof parent.child;

  const quiet = lazyChild(parent, { deliveryId: 'd1' });
  expect(quiet.level).toBe('info');
  expect(quiet.isLevelEnabled('debug')).toBe(false);
  expect(made).toBe(1); // reading from it makes it, once
  const unused = lazyChild(parent, { deliveryId: 'd2' });
  expect(unused).toBeDefined();
  expect(made).toBe(1);

  const used = lazyChild(parent, { deliveryId: 'd3', url: 'https://hooks.example.com/secret' });
  used.warn({ attempt: 2 }, 'receiver slow');
  used.error('gave up');
  expect(made).toBe(2);
  expect(lines.map((l) => [l.deliveryId, l.url, l.attempt, l.msg])).toEqual([
    ['d3', '[redacted]', 2, 'receiver slow'],
    ['d3', '[redacted]', undefined, 'gave up'],
  ]);
});
