import * as path from 'node:path';
import { assertSafeName, resolveInside } from '../../src/fs/safe-path';

describe('resolveInside', () => {
  const root = '/data/harvest';
  it('resolves a plain relative path under the root', () => {
    expect(resolveInside(root, 'a/b.txt')).toBe(path.join(root, 'a/b.txt'));
  });
  it.each(['../x', 'a/../../x', '/etc/passwd', 'C:/win', 'a\\..\\..\\x', '', 'a\0b'])('refuses %j', (p) => {
    expect(() => resolveInside(root, p)).toThrow(expect.objectContaining({ code: 'SRW_UNSAFE_PATH' }));
  });
});

describe('assertSafeName', () => {
  it.each(['..', '.hidden', 'a/b', '', '-x'])('refuses %j', (n) => {
    expect(() => assertSafeName(n, 'output name')).toThrow(expect.objectContaining({ code: 'SRW_UNSAFE_PATH' }));
  });
  it('accepts a normal name', () => expect(assertSafeName('model_v2.pkl', 'x')).toBe('model_v2.pkl'));
});
