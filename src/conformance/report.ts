// What a conformance suite reports, and the runner that turns each check into a pass or a named failure.
import { ConformanceError } from '../model/errors';

export interface ConformanceReport {
  passed: string[];
  failed: { check: string; error: string }[];
}

/** A report and a `check` that runs one named check within a deadline, recording it as passed or failed (it never throws). */
export function conformanceRun(timeoutMs = 10_000): { report: ConformanceReport; check: (name: string, fn: () => Promise<void>) => Promise<void> } {
  const report: ConformanceReport = { passed: [], failed: [] };
  const check = async (name: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await withTimeout(fn(), timeoutMs, name);
      report.passed.push(name);
    } catch (err) {
      report.failed.push({ check: name, error: (err as Error).message });
    }
  };
  return { report, check };
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConformanceError(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}
