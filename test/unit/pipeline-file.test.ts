import { parsePipelineText } from '../../src/providers/local/pipeline-file';

function errorOf(text: string): { code: string; message: string } {
  try {
    parsePipelineText(text, 'p.yaml');
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected an error');
}

describe('pipeline file', () => {
  it('parses a valid pipeline with defaults filled in', () => {
    const p = parsePipelineText('experiment: e\nsteps:\n  - name: a\n    run: echo hi\n  - name: b\n    run: echo b\n    needs: [a]\n');
    expect(p.steps[1]).toEqual({ name: 'b', run: 'echo b', needs: ['a'], outputs: {}, inputs: [], allowReuse: false, env: {} });
  });

  it('names the line of a YAML syntax error', () => {
    const err = errorOf('experiment: e\nsteps:\n  - name: a\n    run: echo "x: y" | z: w\n');
    expect(err.code).toBe('SRW_PIPELINE_INVALID');
    expect(err.message).toMatch(/^p\.yaml:4: /);
  });

  it('names the field and line of a schema error', () => {
    const err = errorOf('experiment: e\nsteps:\n  - name: a\n    run: echo\n  - name: b\n    run: 42\n');
    expect(err.message).toMatch(/^p\.yaml:6: steps\[1\]\.run: /);
  });

  it('refuses an unknown field by name', () => {
    expect(errorOf('experiment: e\nsteps:\n  - name: a\n    run: x\n    retries: 3\n').message).toMatch(/steps\[0\]/);
  });

  it('refuses needs that name no step', () => {
    expect(errorOf('experiment: e\nsteps:\n  - name: a\n    run: x\n    needs: [zz]\n').message).toMatch(
      /p\.yaml:5: steps\[0\]\.needs\[0\]: no step named "zz"/,
    );
  });

  it('refuses a cycle and shows it', () => {
    expect(errorOf('experiment: e\nsteps:\n  - {name: a, run: x, needs: [b]}\n  - {name: b, run: y, needs: [a]}\n').message).toMatch(/cycle: a -> b -> a/);
  });

  it('refuses duplicate step names', () => {
    expect(errorOf('experiment: e\nsteps:\n  - {name: a, run: x}\n  - {name: a, run: y}\n').message).toMatch(/used twice/);
  });

  it('refuses output names that could escape a folder', () => {
    expect(errorOf('experiment: e\nsteps:\n  - name: a\n    run: x\n    outputs: {"../x": out}\n').code).toBe('SRW_PIPELINE_INVALID');
  });
});

describe('pipeline file: found by fuzzing', () => {
  it('an alias without its anchor is a pipeline error, not a crash', () => {
    expect(errorOf('*!')).toMatchObject({ code: 'SRW_PIPELINE_INVALID', message: expect.stringMatching(/^p\.yaml:1: /) });
  });
});
