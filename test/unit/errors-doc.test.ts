// The error catalogue is the one source: docs/errors.md lists every code with the catalogue's class, exit and HTTP
// status (and nothing else), and every error class raises the code the catalogue names it for.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ERROR_CATALOGUE, exitCodeFor, httpStatusFor, type ErrorCode } from '../../src/model/error-catalogue';
import * as errors from '../../src/model/errors';
import { HttpError, statusOf } from '../../src/api/http';

const doc = readFileSync(path.join(__dirname, '../../docs/errors.md'), 'utf8');
const rows = [...doc.matchAll(/^\| `(SRW_[A-Z_]+)` \| `(\w+)` \| (\d+) \| (\d+) \|/gm)].map((m) => ({
  code: m[1]!,
  raisedBy: m[2]!,
  exit: Number(m[3]),
  status: Number(m[4]),
}));

describe('the error catalogue', () => {
  it('docs/errors.md lists exactly its codes, each with its class, exit status and HTTP status', () => {
    const fromCatalogue = Object.entries(ERROR_CATALOGUE).map(([code, e]) => ({ code, raisedBy: e.raisedBy, exit: e.exit, status: e.status }));
    const byCode = (a: { code: string }, b: { code: string }) => a.code.localeCompare(b.code);
    expect([...rows].sort(byCode)).toEqual(fromCatalogue.sort(byCode));
  });

  it('every error class raises the code the catalogue gives it, and the CLI and API read their numbers there', () => {
    const source = readFileSync(path.join(__dirname, '../../src/model/errors.ts'), 'utf8');
    const raised = [...source.matchAll(/export class (\w+) extends SrwError \{(?:(?!export class)[\s\S])*?super\(\s*'(SRW_[A-Z_]+)'/g)].map((m) => [
      m[2],
      m[1],
    ]);
    const classCodes = Object.entries(ERROR_CATALOGUE)
      .filter(([, e]) => e.raisedBy !== 'HttpError')
      .map(([code, e]) => [code, e.raisedBy]);
    expect(raised.sort()).toEqual(classCodes.sort());
    for (const [, name] of classCodes) expect(typeof (errors as Record<string, unknown>)[name!]).toBe('function');
    for (const code of Object.keys(ERROR_CATALOGUE) as ErrorCode[]) {
      expect(exitCodeFor(code)).toBe(ERROR_CATALOGUE[code].exit);
      expect(new HttpError(code, 'x').status).toBe(httpStatusFor(code));
    }
    expect(statusOf(new errors.RunNotFoundError('r'))).toBe(404);
    expect(statusOf(new errors.AlreadyExistsError('x'))).toBe(409);
    expect(statusOf(new Error('unexpected'))).toBe(500);
  });
});
