// Every error src/ raises is a catalogue error (src/model/errors.ts, or the API's HttpError): a caller can match on
// its code, the CLI exits with its status and the API answers with it. The only exceptions build errors in Node's own
// shape for code that tests Node's codes (ENOENT, ABORT_ERR), and each says so on the line above.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ERROR_CATALOGUE } from '../../src/model/error-catalogue';
import * as errors from '../../src/model/errors';
import { FileTooLargeError } from '../../src/fs/read-bounded';
import { MatcherSyntaxError } from '../../src/store/matchers';

const SRC = path.join(__dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourceFiles(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : [],
  );
}

describe('errors thrown in src', () => {
  it('are catalogue errors: no bare Error and no error class outside the catalogue, but in Node’s shape where said', () => {
    const offending: string[] = [];
    for (const file of sourceFiles(SRC)) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        const bare = /\bnew (Type|Range)?Error\(/.test(line);
        const ownClass = /class \w+ extends Error\b/.test(line) && !/export class (SrwError|HttpError) extends Error/.test(line);
        if ((bare && !/Node's shape/.test(lines[i - 1] ?? '')) || ownClass) offending.push(`${path.relative(SRC, file)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offending).toEqual([]);
  });

  it('refinements keep their catalogue code', () => {
    expect(new FileTooLargeError('big.yaml', 2, 1).code).toBe('SRW_INVALID_INPUT');
    expect(new MatcherSyntaxError('bad').code).toBe('SRW_INVALID_INPUT');
    expect(new errors.InternalError('x').code).toBe('SRW_INTERNAL');
    expect(ERROR_CATALOGUE.SRW_WORKER_EXITED.raisedBy).toBe('WorkerExitedError');
    expect(new errors.WorkerExitedError('gone').retryable).toBe(true);
    expect(new errors.ContentionError('busy').retryable).toBe(true);
  });
});
