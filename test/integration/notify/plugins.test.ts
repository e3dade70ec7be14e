// The plugin example of docs/PLUGINS.md, loaded from the page itself through the config's `module` type.
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { validateConfig } from '../../../src/config/load';
import { buildNotifiers } from '../../../src/runtime/wiring';
import { failedStepEvent, stepEventWith } from '../../support/events';
import { deliveryContext, silent } from '../../support/notifiers';
import { tempDir } from '../../support/tmp';

const page = readFileSync(path.join(__dirname, '../../../docs/PLUGINS.md'), 'utf8');

describe('docs/PLUGINS.md', () => {
  it('shows a complete example of about 20 lines that loads and delivers', async () => {
    const code = /```js\n([\s\S]*?)```/.exec(page)![1]!;
    expect(code.trim().split('\n').length).toBeLessThanOrEqual(22);
    const dir = tempDir('plugin');
    await fs.writeFile(path.join(dir, 'my-notifier.js'), code);
    const configYaml = /```yaml\n([\s\S]*?)```/.exec(page)![1]!;
    const config = validateConfig((await import('yaml')).parse(configYaml), { dataDir: dir, env: {}, source: path.join(dir, 'config.yaml') });
    const notifiers = await buildNotifiers(config, new Map(), silent);
    const plugin = notifiers.get('failures')!;
    expect(plugin.type).toBe('csv-failures');
    const event = failedStepEvent();
    expect(await plugin.deliver(event, deliveryContext('d-1'))).toEqual({ detail: `appended to ${path.join(dir, 'failures.csv')}` });
    expect(await plugin.deliver(stepEventWith('Finished', 'Running'), deliveryContext('d-2'))).toEqual({ detail: 'not a failure' });
    expect(await fs.readFile(path.join(dir, 'failures.csv'), 'utf8')).toBe(`"d-1","${event.time}","churn","1234","train","exited with code 3"\n`);
  });

  it('a module that cannot be loaded, or exports no create(), is a config error naming the notifier', async () => {
    const dir = tempDir('plugin-bad');
    await fs.writeFile(path.join(dir, 'empty.js'), 'exports.nothing = 1;\n');
    const base = { dataDir: dir, env: {}, source: path.join(dir, 'c.yaml') };
    const missing = validateConfig({ notifiers: { x: { type: 'module', module: './nope.js' } } }, base);
    await expect(buildNotifiers(missing, new Map(), silent)).rejects.toMatchObject({
      code: 'SRW_CONFIG_INVALID',
      message: expect.stringContaining('notifiers.x.module: cannot load "./nope.js"'),
    });
    const empty = validateConfig({ notifiers: { y: { type: 'module', module: './empty.js' } } }, base);
    await expect(buildNotifiers(empty, new Map(), silent)).rejects.toMatchObject({
      message: expect.stringContaining('notifiers.y.module: "./empty.js" exports no create'),
    });
  });
});
