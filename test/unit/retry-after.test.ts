// One Retry-After parser for notifiers and providers.
import { retryAfterMs } from '../../src/util/retry-after';

const NOW = Date.parse('2026-11-26T10:00:00Z');
const headers = (h: Record<string, string>) => new Headers(h);

describe('Retry-After', () => {
  it('seconds, including fractions ("1.5" is 1.5 s, not a date)', () => {
    expect(retryAfterMs(headers({ 'retry-after': '7' }), NOW)).toBe(7000);
    expect(retryAfterMs(headers({ 'retry-after': '1.5' }), NOW)).toBe(1500);
    expect(retryAfterMs(headers({ 'retry-after': ' 0 ' }), NOW)).toBe(0);
  });

  it('an HTTP date, counted from now (never negative)', () => {
    expect(retryAfterMs(headers({ 'retry-after': 'Thu, 26 Nov 2026 10:00:30 GMT' }), NOW)).toBe(30_000);
    expect(retryAfterMs(headers({ 'retry-after': 'Thu, 26 Nov 2026 09:00:00 GMT' }), NOW)).toBe(0);
  });

  it('Azure’s retry-after-ms and x-ms-retry-after-ms first; garbage is undefined', () => {
    expect(retryAfterMs(headers({ 'retry-after-ms': '250', 'retry-after': '9' }), NOW)).toBe(250);
    expect(retryAfterMs(headers({ 'x-ms-retry-after-ms': '1200' }), NOW)).toBe(1200);
    expect(retryAfterMs(headers({ 'retry-after': 'soon' }), NOW)).toBeUndefined();
    expect(retryAfterMs(headers({ 'retry-after': '-3' }), NOW)).toBeUndefined();
    expect(retryAfterMs(headers({}), NOW)).toBeUndefined();
  });
});
