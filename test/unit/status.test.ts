import { canonicalRawStatus, isTerminal, normalizeStatus, RAW_STATUSES, Status, STATUSES, subStateOf, TERMINAL_STATUSES } from '../../src/model/status';

describe('status map', () => {
  const expected: Record<string, string> = {
    NotStarted: 'NotStarted',
    Starting: 'Queued',
    Provisioning: 'Queued',
    Preparing: 'Queued',
    Queued: 'Queued',
    Running: 'Running',
    Finalizing: 'Running',
    CancelRequested: 'Running',
    Completed: 'Finished',
    Finished: 'Finished',
    Failed: 'Failed',
    Canceled: 'Canceled',
    NotResponding: 'Running',
    Paused: 'Running',
    Unknown: 'Running',
  };

  it.each(Object.entries(expected))('maps raw %s to %s', (raw, normalized) => {
    expect(normalizeStatus(raw)).toBe(normalized);
  });

  it('maps every raw status it lists onto a normalized status', () => {
    for (const raw of RAW_STATUSES) expect(STATUSES).toContain(normalizeStatus(raw));
  });

  it('folds case and spaces, as Event Grid writes "failed"', () => {
    expect(normalizeStatus('failed')).toBe(Status.Failed);
    expect(normalizeStatus(' COMPLETED ')).toBe(Status.Finished);
  });

  it('returns undefined for a status it does not know', () => {
    expect(normalizeStatus('Exploded')).toBeUndefined();
  });

  it('spells a raw status and its sub-state alike however it came (as listed, lower or upper case, padded)', () => {
    for (const raw of RAW_STATUSES) {
      for (const spelled of [raw, raw.toLowerCase(), raw.toUpperCase(), ` ${raw} `]) {
        expect(canonicalRawStatus(spelled)).toBe(raw);
        expect(subStateOf(spelled)).toBe(subStateOf(raw));
      }
    }
    expect(subStateOf('Running')).toBeUndefined();
    expect(subStateOf('Completed')).toBeUndefined();
    expect(subStateOf('notresponding')).toBe('NotResponding');
    expect(subStateOf('Finalizing')).toBe('Finalizing');
    expect(subStateOf(' Warming up ')).toBe('Warming up');
  });

  it('counts exactly Finished, Failed and Canceled as terminal', () => {
    expect([...TERMINAL_STATUSES].sort()).toEqual(['Canceled', 'Failed', 'Finished']);
    expect(isTerminal(Status.Running)).toBe(false);
    expect(isTerminal(Status.Canceled)).toBe(true);
  });
});
