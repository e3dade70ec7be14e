// The local run store's listing order: a `run` pipeline's steps come in the file's order, even when they were recorded in the same millisecond.
import * as path from 'node:path';
import { RunStore } from '../../src/providers/local/store';
import { tempDir } from '../support/tmp';

describe('run store', () => {
  it('readSteps lists a pipeline file’s steps in the file’s order, not by their random ids', async () => {
    const store = new RunStore(path.join(tempDir('store-order'), 'runs'));
    const at = '2026-11-26T10:00:00.000Z';
    await store.createPipeline({
      schema: 1,
      pipelineRunId: 'p1',
      experiment: 'e',
      createdTime: at,
      status: 'Running',
      source: 'run',
      steps: ['prepare', 'train', 'report'],
    });
    // Ids in the reverse order of the steps, all created in the same millisecond.
    for (const [name, id] of [
      ['prepare', 's_c'],
      ['train', 's_b'],
      ['report', 's_a'],
    ] as const) {
      await store.writeStep({
        schema: 1,
        stepRunId: id,
        pipelineRunId: 'p1',
        experiment: 'e',
        nodeId: 'n',
        name,
        status: 'NotStarted',
        rawStatus: 'NotStarted',
        createdTime: at,
        command: 'x',
        isReused: false,
        outputs: {},
      });
    }
    expect((await store.readSteps('p1')).steps.map((s) => s.name)).toEqual(['prepare', 'train', 'report']);
  });
});
