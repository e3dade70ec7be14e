import { readFileSync } from 'node:fs';
import * as path from 'node:path';

describe('docs/errors.md', () => {
  it('lists exactly the codes that src/model/errors.ts defines', () => {
    const source = readFileSync(path.join(__dirname, '../../src/model/errors.ts'), 'utf8');
    const union = source.slice(source.indexOf('export type ErrorCode'), source.indexOf(';', source.indexOf('export type ErrorCode')));
    const defined = [...union.matchAll(/'(SRW_[A-Z_]+)'/g)].map((m) => m[1]).sort();
    const doc = readFileSync(path.join(__dirname, '../../docs/errors.md'), 'utf8');
    const documented = [...doc.matchAll(/^\| `(SRW_[A-Z_]+)`/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(defined);
  });
});
