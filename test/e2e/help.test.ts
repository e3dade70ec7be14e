// Every command has --help with an example, and exits 0 for it.
import { cli } from '../support/cli';

const COMMANDS = [
  'daemon',
  'workers',
  'track',
  'tracks',
  'untrack',
  'events',
  'ping',
  'exec',
  'run',
  'status',
  'steps',
  'logs',
  'outputs',
  'download',
  'wait',
  'deliveries',
  'deliveries retry',
  'demo',
  'alerts',
  'silence',
  'silence add',
  'silence list',
  'silence expire',
  'routes',
  'routes test',
];

describe('steprun-watch --help', () => {
  it.each(COMMANDS)('%s --help shows an example', async (command) => {
    const r = await cli([...command.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Examples?:\n {2}(steprun-watch|npm run) /);
  });

  it('an unknown command is a usage error (exit 4) that names it', async () => {
    const r = await cli(['frobnicate']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});
