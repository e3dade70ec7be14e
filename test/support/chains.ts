// Checks a set of delivered step events: each step's events form one unbroken chain of transitions.
export interface DeliveredRecord {
  eventId: string;
  type: string;
  stepRunId?: string | null;
  status?: string | null;
  previousStatus?: string | null;
}

/** Returns the problems found: duplicates, gaps (previousStatus not the last delivered status), non-terminal ends. */
export function chainProblems(records: DeliveredRecord[], expectedFinal: Map<string, string>): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const r of records) {
    if (seen.has(r.eventId)) problems.push(`duplicate delivery of ${r.eventId} (${r.type} ${r.stepRunId ?? ''})`);
    seen.add(r.eventId);
  }
  const byStep = new Map<string, DeliveredRecord[]>();
  for (const r of records) if (r.stepRunId) byStep.set(r.stepRunId, [...(byStep.get(r.stepRunId) ?? []), r]);
  for (const [step, final] of expectedFinal) {
    const events = byStep.get(step) ?? [];
    // Delivery order across workers is not guaranteed: rebuild the chain from previousStatus links.
    const bySource = new Map(events.map((e) => [e.previousStatus ?? 'null', e]));
    let at = 'null';
    let hops = 0;
    while (bySource.has(at) && hops <= events.length) {
      at = bySource.get(at)!.status!;
      hops++;
    }
    if (hops !== events.length) problems.push(`step ${step}: broken chain ${JSON.stringify(events.map((e) => [e.previousStatus, e.status]))}`);
    if (at !== final) problems.push(`step ${step}: last delivered status ${at}, expected ${final}`);
  }
  return problems;
}
