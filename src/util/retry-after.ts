// The one Retry-After reader (notifiers' receivers and providers' services): how long they asked us to wait.

/**
 * `retry-after-ms` and `x-ms-retry-after-ms` (Azure) first, then `Retry-After` as seconds (fractions allowed:
 * "1.5" is 1.5 s) or an HTTP date (RFC 9110), counted from `now` and never negative. Undefined when absent or unreadable.
 */
export function retryAfterMs(headers: { get(name: string): string | null | undefined }, now = Date.now()): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const text = headers.get(name)?.trim();
    if (text && /^\d+(\.\d+)?$/.test(text)) return Number(text);
  }
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  // A date has letters and a comma or spaces; a bare number that failed above (negative, "1e3") is not one.
  if (!/[A-Za-z]/.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
