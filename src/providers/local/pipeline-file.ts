// Parses and validates a pipeline file; every error names the line and the field.
import { LineCounter, parseDocument, isNode } from 'yaml';
import { z } from 'zod';
import { FileTooLargeError, readTextBounded } from '../../fs/read-bounded';
import { PipelineInvalidError } from '../../model/errors';

const nameRe = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

const stepSchema = z.strictObject({
  name: z.string().regex(nameRe, 'letters, digits, ".", "_" or "-" (at most 128)'),
  run: z.string().min(1, 'must not be empty'),
  needs: z.array(z.string()).default([]),
  outputs: z.record(z.string().regex(nameRe, 'output names are letters, digits, ".", "_" or "-"'), z.string().min(1)).default({}),
  inputs: z.array(z.string().min(1)).default([]),
  allowReuse: z.boolean().default(false),
  env: z.record(z.string(), z.string()).default({}),
  /** A declared output the step did not produce fails it (default: the pipeline's `requireOutputs`). */
  requireOutputs: z.boolean().optional(),
});

export const pipelineFileSchema = z.strictObject({
  experiment: z.string().regex(nameRe, 'letters, digits, ".", "_" or "-" (at most 128)'),
  /** Folder the steps run in, relative to the pipeline file (default: the file's folder). */
  workdir: z.string().optional(),
  /** Steps running at once at most (`run --parallel` wins); default: the number of cores. */
  parallel: z.number().int().positive().optional(),
  /** A step that ends without one of its declared outputs fails (default: it is Finished, the missing output noted). */
  requireOutputs: z.boolean().default(false),
  steps: z.array(stepSchema).min(1, 'a pipeline needs at least one step'),
});

export type PipelineFile = z.infer<typeof pipelineFileSchema>;
export type PipelineStep = PipelineFile['steps'][number];

export async function loadPipelineFile(file: string): Promise<PipelineFile> {
  let text: string;
  try {
    text = await readTextBounded(file);
  } catch (err) {
    if (err instanceof FileTooLargeError) throw new PipelineInvalidError(`${file}: ${err.message}`);
    throw new PipelineInvalidError(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parsePipelineText(text, file);
}

export function parsePipelineText(text: string, file = 'pipeline'): PipelineFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = syntax.linePos?.[0]?.line ?? lineCounter.linePos(syntax.pos[0]).line;
    throw new PipelineInvalidError(`${file}:${line}: ${syntax.message.split('\n')[0]}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // Unresolved or exploding aliases are found only while building the value (found by the fuzz tests).
    throw new PipelineInvalidError(`${file}:1: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = pipelineFileSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '');
    throw new PipelineInvalidError(`${file}:${lineOf(doc, issue.path as (string | number)[], lineCounter)}: ${at || '(root)'}: ${issue.message}`);
  }
  checkGraph(parsed.data, file, doc, lineCounter);
  return parsed.data;
}

/** Needs must name earlier-declared or later steps that exist, names must be unique, and there must be no cycle. */
function checkGraph(p: PipelineFile, file: string, doc: ReturnType<typeof parseDocument>, lc: LineCounter): void {
  const names = new Map<string, number>();
  p.steps.forEach((s, i) => {
    if (names.has(s.name)) throw new PipelineInvalidError(`${file}:${lineOf(doc, ['steps', i, 'name'], lc)}: steps[${i}].name: "${s.name}" is used twice`);
    names.set(s.name, i);
  });
  p.steps.forEach((s, i) =>
    s.needs.forEach((n, j) => {
      if (!names.has(n)) throw new PipelineInvalidError(`${file}:${lineOf(doc, ['steps', i, 'needs', j], lc)}: steps[${i}].needs[${j}]: no step named "${n}"`);
    }),
  );
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (name: string, trail: string[]): void => {
    if (done.has(name)) return;
    if (visiting.has(name)) throw new PipelineInvalidError(`${file}: steps: needs form a cycle: ${[...trail, name].join(' -> ')}`);
    visiting.add(name);
    for (const n of p.steps[names.get(name)!]!.needs) visit(n, [...trail, name]);
    visiting.delete(name);
    done.add(name);
  };
  for (const s of p.steps) visit(s.name, []);
}

/** The line of the deepest node of `path` that exists in the document (1-based). */
function lineOf(doc: ReturnType<typeof parseDocument>, path: (string | number)[], lc: LineCounter): number {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return 1;
}
