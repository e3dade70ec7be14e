// A pipeline run's steps as an SVG graph, laid out on the server (dagre): it shows without JavaScript, and the
// live refresh redraws it with the rest of the page. Colour is never the only sign: each node names its status.
import dagre from '@dagrejs/dagre';
import { subStateOf } from '../../model/status';
import type { StepRunSnapshot } from '../../model/provider';
import { duration, html, type SafeHtml } from './html';

const NODE_WIDTH = 210;
const NODE_HEIGHT = 58;

/** The `needs` edges between the given steps (names not among them are ignored). */
function edgesOf(steps: StepRunSnapshot[]): [string, string][] {
  const names = new Set(steps.map((s) => s.name));
  return steps.flatMap((s) => (s.needs ?? []).filter((n) => names.has(n)).map((n): [string, string] => [n, s.name]));
}

export function stepGraph(steps: StepRunSnapshot[], now: number): SafeHtml {
  if (steps.length === 0) return html`<p>No steps yet.</p>`;
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 48, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const s of steps) g.setNode(s.name, { width: NODE_WIDTH, height: NODE_HEIGHT });
  const edges = edgesOf(steps);
  for (const [from, to] of edges) g.setEdge(from, to);
  dagre.layout(g);
  const { width = 0, height = 0 } = g.graph();
  const paths = edges.map(([from, to]) => {
    const points: { x: number; y: number }[] = g.edge(from, to).points ?? [];
    return html`<path class="edge" d="${points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')}" marker-end="url(#arrow)" />`;
  });
  const nodes = steps.map((s) => {
    const n = g.node(s.name);
    const x = n.x - NODE_WIDTH / 2;
    const y = n.y - NODE_HEIGHT / 2;
    const took = s.startTime ? duration((s.endTime ? Date.parse(s.endTime) : now) - Date.parse(s.startTime)) : '';
    // Azure ML's own sub-state (NotResponding, Finalizing) beside the status it is folded into: "Running (NotResponding)".
    const sub = subStateOf(s.rawStatus);
    const status = sub ? `${s.status} (${sub})` : s.status;
    const label = `${s.name}: ${status}${s.isReused ? ', reused' : ''}${took ? `, ${took}` : ''}`;
    return html`<a
      href="#step-${s.stepRunId}"
      class="node status-${s.status}"
      data-step="${s.name}"
      data-status="${s.status}"
      ${sub ? html` data-substate="${sub}"` : ''}
      aria-label="${label}"
    >
      <title>${label}</title>
      <rect x="${x}" y="${y}" width="${NODE_WIDTH}" height="${NODE_HEIGHT}" rx="6" />
      <text x="${x + 10}" y="${y + 22}" class="name">${s.name}</text>
      <text x="${x + 10}" y="${y + 44}" class="meta">${status}${took ? ` · ${took}` : ''}${s.isReused ? ' · ♻ reused' : ''}</text>
    </a>`;
  });
  return html`<svg
    class="graph"
    role="group"
    aria-label="Step graph"
    viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}"
    width="${Math.ceil(width)}"
    height="${Math.ceil(height)}"
  >
    <defs>
      <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">
        <path d="M0,0 L10,5 L0,10 z" class="arrow" />
      </marker>
    </defs>
    ${paths} ${nodes}
  </svg>`;
}
