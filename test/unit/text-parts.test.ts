// A long text in a hash, in parts of at most 64 bytes of UTF-8 (store/text-parts.ts): cut only between characters,
// read back whole, and a shorter rewrite ends where it should.
import fc from 'fast-check';
import { joinedText, textParts, withTextParts } from '../../src/store/text-parts';

/** The hash a fresh write of `items` leaves, as HGETALL gives it back. */
const rowOf = (items: string[]): Record<string, string> =>
  Object.fromEntries(Array.from({ length: items.length / 2 }, (_, i) => [items[2 * i]!, items[2 * i + 1]!]));

it('cuts any text into parts of at most 64 bytes, between characters, that join back to it', () => {
  fc.assert(
    fc.property(
      fc.string({
        unit: fc.oneof(fc.constantFrom('a', 'é', '€', '🔥', '\ud800', '\udc00'), fc.string({ unit: 'binary', maxLength: 1 })),
        minLength: 60,
        maxLength: 400,
      }),
      (text) => {
        const { items, end } = textParts('summary', text);
        const values = items.filter((_, i) => i % 2 === 1);
        for (const value of values) expect(Buffer.byteLength(value)).toBeLessThanOrEqual(64);
        const isHigh = (c: number) => c >= 0xd800 && c < 0xdc00;
        const isLow = (c: number) => c >= 0xdc00 && c < 0xe000;
        for (let i = 1; i < values.length; i++)
          expect(isHigh(values[i - 1]!.charCodeAt(values[i - 1]!.length - 1)) && isLow(values[i]!.charCodeAt(0))).toBe(false);
        expect(joinedText(rowOf(items), 'summary')).toBe(text);
        expect(end).toBe(values.length === 1 ? 'summary~1' : `summary~${values.length}`);
      },
    ),
  );
});

it('a shorter text written over a longer one reads as the shorter one (the part after it is deleted)', () => {
  const long = textParts('reason', '€'.repeat(100)); // 300 bytes: five parts
  const short = textParts('reason', 'silenced by s1');
  const row = rowOf([...long.items, ...short.items]);
  delete row[short.end];
  expect(long.items.length / 2).toBe(5);
  expect(joinedText(row, 'reason')).toBe('silenced by s1');
});

it('writes only the named texts in parts, and leaves numbers and short texts as they are', () => {
  const fields = withTextParts({ summary: 'x'.repeat(70), status: 'silenced', heldUntil: 5 }, ['summary']);
  expect(fields).toEqual({ summary: 'x'.repeat(64), 'summary~1': 'x'.repeat(6), status: 'silenced', heldUntil: 5 });
});

it('writes a text too long for a compact hash whole, and a rewrite of it in parts (or whole) reads as written', () => {
  const tail = 'x'.repeat(8192); // a failure's stderr tail at its limit: 128 parts, past a listpack's 128 fields
  const whole = textParts('event', tail);
  expect(whole.items).toEqual(['event', tail]);
  const parted = textParts('event', 'y'.repeat(100));
  const row = rowOf([...parted.items, ...whole.items]);
  delete row[whole.end];
  expect(joinedText(row, 'event')).toBe(tail);
});
