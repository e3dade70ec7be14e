// Long texts in a Redis hash, kept in parts so that the hash stays compact.
//
// Redis stores a hash as a listpack (about the size of its data) only while every value is at most
// `hash-max-listpack-value` bytes, 64 by default; one longer value turns the whole hash into a table of about twice
// that (an open alert's hash: 1,520 B for ~800 B of data). So a text that may be long is written in parts of at most
// 64 bytes: `name`, `name~1`, `name~2`, ... A reader joins them up to the first part missing; a writer that replaces
// a text deletes the part after its last, which ends the new text for readers (older parts past it stay unread).
// A listpack also holds at most `hash-max-listpack-entries` fields (128 by default): a text of more than MAX_PARTS
// parts (a failure's 8 KB stderr tail) is written whole, as one value is smaller in a table than a hundred parts.

/** The listpack's limit on a value, in bytes (Redis's default). */
const PART_BYTES = 64;

/** Parts a text is cut into at most (4 KB): with a hash's other fields, well within a listpack's 128 entries. */
const MAX_PARTS = 64;

/** The field of the `index`th part of the text `name` (the first part is `name` itself). */
const partField = (name: string, index: number): string => (index === 0 ? name : `${name}~${index}`);

/** `value` cut at character boundaries into pieces of at most PART_BYTES bytes of UTF-8 (whole past MAX_PARTS). */
function piecesOf(value: string): string[] {
  if (value.length * 3 <= PART_BYTES) return [value];
  const pieces: string[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const next = value.charCodeAt(i + 1); // NaN past the end
    const pair = c >= 0xd800 && c < 0xdc00 && next >= 0xdc00 && next < 0xe000;
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + size > PART_BYTES) {
      pieces.push(value.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += size;
    if (pair) i++;
  }
  pieces.push(value.slice(start));
  return pieces.length > MAX_PARTS ? [value] : pieces;
}

/** The text `value` as `name`: part field -> piece. */
function partsByField(name: string, value: string): Record<string, string> {
  return Object.fromEntries(piecesOf(value).map((piece, i) => [partField(name, i), piece]));
}

/** The field/value items that write the text `value` as `name`, and the field that ends it (to delete on a rewrite). */
export function textParts(name: string, value: string): { items: string[]; end: string } {
  const parts = Object.entries(partsByField(name, value));
  return { items: parts.flat(), end: partField(name, parts.length) };
}

/** `fields` with each text in `texts` written in parts (a new hash: nothing to end). */
export function withTextParts<T extends string | number>(fields: Record<string, T>, texts: readonly string[]): Record<string, T | string> {
  const out: Record<string, T | string> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (!texts.includes(name) || typeof value !== 'string') out[name] = value;
    else Object.assign(out, partsByField(name, value));
  }
  return out;
}

/** The text `name` of a hash read whole (HGETALL), its parts joined; undefined when it is not there. */
export function joinedText(row: Record<string, string>, name: string): string | undefined {
  let text = row[name];
  if (text === undefined) return undefined;
  for (let i = 1; row[partField(name, i)] !== undefined; i++) text += row[partField(name, i)];
  return text;
}
