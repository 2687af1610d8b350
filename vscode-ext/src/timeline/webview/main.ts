/// <reference lib="dom" />
/**
 * The Run Timeline webview: draws what layout.ts places as SVG, zooms on the wheel, pans on
 * drag, shows the hovered item in a tooltip and asks the extension to open its file on
 * click. Recorded text (flow ids, reasons, evidence) is only ever set as `textContent`.
 * Colours are VS Code's theme variables (media/timeline.css).
 */
import { AXIS_H, caption, histogram } from '../histogram';
import type { Layout, Viewport } from '../layout';
import { fullView, layout, pan, ROW_H, visible, zoom } from '../layout';
import type { Bar, FlowGraphModel, FlowLatency, FromWebview, Mark, Tick, TimelineFilters, TimelineModel, ToWebview } from '../model';

declare function acquireVsCodeApi(): { postMessage(m: FromWebview): void };
const vscode = acquireVsCodeApi();
const SVG = 'http://www.w3.org/2000/svg';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) {
    e.className = cls;
  }
  if (text !== undefined) {
    e.textContent = text;
  }
  return e;
}

function svg(tag: string, attrs: Record<string, string | number>): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    e.setAttribute(k, String(v));
  }
  return e;
}

const app = document.getElementById('app') ?? document.body;
const toolbar = el('div', 'toolbar');
const flowInput = el('input');
flowInput.placeholder = 'flow glob (orders/**)';
flowInput.id = 'filter-flow';
const whereInput = el('input');
whereInput.placeholder = 'key=value';
whereInput.id = 'filter-where';
const verdictSelect = el('select');
verdictSelect.id = 'filter-verdict';
for (const v of ['', 'failed', 'passed', 'unfinished', 'orphaned', 'running']) {
  const o = el('option', undefined, v || 'any verdict');
  o.value = v;
  verdictSelect.append(o);
}
const fitButton = el('button', undefined, 'Fit');
const tabTimeline = el('button', 'tab active', 'Timeline');
const tabFlows = el('button', 'tab', 'Flows');
const tabLatency = el('button', 'tab', 'Latency');
const status = el('span', 'status');
toolbar.append(tabTimeline, tabFlows, tabLatency, flowInput, whereInput, verdictSelect, fitButton, status);
const timelinePane = el('div', 'pane timeline');
const flowsPane = el('div', 'pane flows hidden');
const latencyPane = el('div', 'pane latency hidden');
const tooltip = el('div', 'tooltip hidden');
tooltip.id = 'tooltip';
app.append(toolbar, timelinePane, flowsPane, latencyPane, tooltip);

let model: TimelineModel | undefined;
let view: Viewport | undefined;

function sendFilters(): void {
  const filters: TimelineFilters = { flow: flowInput.value.trim(), where: whereInput.value.trim(), verdict: verdictSelect.value as TimelineFilters['verdict'] };
  vscode.postMessage({ type: 'filters', filters });
}
flowInput.addEventListener('change', sendFilters);
whereInput.addEventListener('change', sendFilters);
verdictSelect.addEventListener('change', sendFilters);
fitButton.addEventListener('click', () => {
  if (model) {
    view = fullView(model, timelinePane.clientWidth || 800);
    draw();
  }
});
const tabs: [HTMLButtonElement, HTMLElement][] = [[tabTimeline, timelinePane], [tabFlows, flowsPane], [tabLatency, latencyPane]];
for (const [tab] of tabs) {
  tab.addEventListener('click', () => showTab(tab));
}

function showTab(shown: HTMLButtonElement): void {
  for (const [tab, pane] of tabs) {
    tab.classList.toggle('active', tab === shown);
    pane.classList.toggle('hidden', tab !== shown);
  }
}

function open(uri: string | null, line: number | null): void {
  if (uri) {
    vscode.postMessage({ type: 'open', uri, line });
  }
}

function hover(target: Element, lines: string[]): void {
  target.addEventListener('mousemove', (e) => {
    const me = e as MouseEvent;
    tooltip.replaceChildren(...lines.map((l) => el('div', undefined, l)));
    tooltip.classList.remove('hidden');
    tooltip.style.left = `${me.clientX + 12}px`;
    tooltip.style.top = `${me.clientY + 12}px`;
  });
  target.addEventListener('mouseleave', () => tooltip.classList.add('hidden'));
}

function ms(seconds: number): string {
  const v = seconds * 1000;
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 2 : 0)} ms`;
}

function barLines(b: Bar): string[] {
  const corr = Object.entries(b.correlation).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
  const lat = model?.latency?.find((l) => l.flowId === b.flowId);
  return [
    `${b.flowId} · ${b.status}${b.errorClass ? ` · ${b.errorClass}` : ''}`,
    `+${ms(b.start)} for ${ms(b.end - b.start)}`,
    ...(lat ? [`this flow: ${caption(lat)}`] : []),
    ...(corr ? [corr] : []),
    ...(b.file ? [`${b.file}:${b.line ?? ''}`] : []),
  ];
}

const HIST_W = 360;
const HIST_H = 110;

/** One flow's histogram: columns per ra.yaml bucket, what falls in each named under it. */
function drawHistogram(lat: FlowLatency): HTMLElement {
  const box = el('section', `histogram${lat.overSla ? ' over' : ''}`);
  box.append(el('h4', undefined, lat.flowId), el('div', 'caption', caption(lat) + (lat.bimodal ? ' · two modes' : '')));
  const h = histogram(lat, HIST_W, HIST_H);
  const root = svg('svg', { width: h.width, height: h.height, class: 'hist' });
  for (const c of h.columns) {
    const g = svg('g', { class: `column${c.overSla ? ' over-sla' : ''}` });
    g.append(svg('rect', { x: c.x, y: c.y, width: c.w, height: c.h, class: 'count-bar' }));
    const count = svg('text', { x: c.x + c.w / 2, y: Math.max(c.y - 2, 10), class: 'count' });
    count.textContent = String(c.count);
    const label = svg('text', { x: c.x + c.w / 2, y: HIST_H - AXIS_H + 12, class: 'bucket' });
    label.textContent = c.label;
    const notes = svg('text', { x: c.x + c.w / 2, y: HIST_H - AXIS_H + 24, class: 'notes' });
    notes.textContent = c.notes.join(' ');
    g.append(count, label, notes);
    hover(g, [`${lat.flowId}: ${c.count} of ${lat.count} ended in ${c.label}`, ...(c.notes.length ? [c.notes.join(', ')] : [])]);
    root.append(g);
  }
  box.append(root);
  return box;
}

function drawLatency(m: TimelineModel): void {
  const list = m.latency ?? [];
  latencyPane.replaceChildren(
    el('h3', undefined, 'Latency per flow (whole run, ra.yaml buckets; over their SLA first)'),
    ...(list.length ? list.map(drawHistogram) : [el('p', undefined, 'No flow instance of this selection ended yet.')]),
  );
}

function markLines(m: Mark): string[] {
  return [
    `✗ ${m.exceptionType ?? m.errorClass ?? m.kind}${m.severity ? ` (${m.severity})` : ''} in ${m.flowId ?? 'no flow'}`,
    ...(m.reason ? [m.reason] : []),
    ...(m.evidence ? [m.evidence] : []),
    `+${ms(m.t)}${m.file ? ` · ${m.file}:${m.line ?? ''}` : ''}`,
  ];
}

function tickLines(t: Tick): string[] {
  return [`${t.kind}: ${t.step ?? ''}`, ...(t.evidence ? [t.evidence] : []), `+${ms(t.t)}${t.file ? ` · ${t.file}:${t.line ?? ''}` : ''}`];
}

function draw(): void {
  if (!model || !view) {
    return;
  }
  const l: Layout = layout(model, view);
  const root = svg('svg', { width: view.width, height: Math.max(l.height, 40), class: 'chart' });
  for (const lane of l.lanes) {
    root.append(svg('rect', { x: 0, y: lane.y, width: view.width, height: lane.height, class: 'lane' }));
    const label = svg('text', { x: 4, y: lane.y + 12, class: 'lane-label' });
    label.textContent = lane.label;
    root.append(label);
  }
  for (const pb of visible(l.bars, view)) {
    const g = svg('g', { class: `bar ${pb.bar.status}`, 'data-instance': pb.bar.instance });
    const x = Math.max(pb.x, -1);
    const w = Math.min(pb.x + pb.w, view.width + 1) - x;
    g.append(svg('rect', { x, y: pb.y + 1, width: Math.max(w, 1), height: ROW_H - 3, rx: 2 }));
    if (w > 40) {
      const t = svg('text', { x: x + 3, y: pb.y + ROW_H - 5 });
      t.textContent = pb.bar.flowId;
      g.append(t);
    }
    hover(g, barLines(pb.bar));
    g.addEventListener('click', () => open(pb.bar.uri, pb.bar.line));
    root.append(g);
  }
  for (const t of visible(l.ticks, view)) {
    const tick = svg('line', { x1: t.x, x2: t.x, y1: t.y - 5, y2: t.y + 5, class: 'tick' });
    hover(tick, tickLines(t.tick));
    tick.addEventListener('click', () => open(t.tick.uri, t.tick.line));
    root.append(tick);
  }
  for (const m of visible(l.marks, view)) {
    const mark = svg('path', { d: `M${m.x - 5},${m.y - 5} L${m.x + 5},${m.y + 5} M${m.x + 5},${m.y - 5} L${m.x - 5},${m.y + 5}`, class: `mark ${m.mark.kind}` });
    hover(mark, markLines(m.mark));
    mark.addEventListener('click', () => open(m.mark.uri, m.mark.line));
    root.append(mark);
  }
  timelinePane.replaceChildren(root);
  const totals = model.totals;
  status.textContent = model.error
    ? model.error
    : `${model.runId ?? ''} · ${totals?.bars ?? 0} of ${totals?.instances ?? 0} instances drawn · ${totals?.marks ?? 0} failures${model.ended ? '' : ' · live'}`;
}

function drawFlows(graph: FlowGraphModel): void {
  const list = el('ul', 'graph');
  const children = new Map<string | null, typeof graph.nodes>();
  const ids = new Set(graph.nodes.map((n) => n.id));
  for (const n of graph.nodes) {
    const parent = n.parent && ids.has(n.parent) ? n.parent : null;
    children.set(parent, [...(children.get(parent) ?? []), n]);
  }
  const add = (parent: string | null, into: HTMLElement, seen: Set<string>): void => {
    for (const n of children.get(parent) ?? []) {
      if (seen.has(n.id)) {
        continue;
      }
      seen.add(n.id);
      const li = el('li', `node ${n.status}`);
      const c = n.counts;
      li.append(el('span', 'node-id', n.id), el('span', 'counts', ` ✓${c.passed} ✗${c.failed}${c.unfinished ? ` ?${c.unfinished}` : ''}${c.orphaned ? ` ⊘${c.orphaned}` : ''} · ${n.status}`));
      if (n.description) {
        li.title = n.description;
      }
      const sub = el('ul');
      add(n.id, sub, seen);
      if (sub.childElementCount) {
        li.append(sub);
      }
      into.append(li);
    }
  };
  add(null, list, new Set());
  const parts: HTMLElement[] = [el('h3', undefined, 'Flows of this run'), list];
  const seq = graph.sequence;
  if (seq) {
    parts.push(el('h3', undefined, `Failing instance: ${seq.flowId}`));
    const table = el('table', 'sequence');
    for (const it of seq.items) {
      const row = el('tr', `step ${it.kind}`);
      const who = seq.participants[it.participant]?.flowId ?? '?';
      row.append(el('td', 'time', `+${ms(it.t)}`), el('td', 'who', who), el('td', 'what', `${it.kind === 'failure' || it.kind === 'exception' ? '✗ ' : ''}${it.label}${it.reason ? `: ${it.reason}` : ''}`));
      if (it.uri) {
        row.classList.add('link');
        row.addEventListener('click', () => open(it.uri, it.line));
      }
      table.append(row);
    }
    parts.push(table);
    if (seq.more) {
      parts.push(el('p', undefined, `… ${seq.more} more`));
    }
  } else {
    parts.push(el('p', undefined, 'No failing instance in this run.'));
  }
  flowsPane.replaceChildren(...parts);
}

timelinePane.addEventListener(
  'wheel',
  (e) => {
    if (!view) {
      return;
    }
    e.preventDefault();
    const rect = timelinePane.getBoundingClientRect();
    view = zoom(view, e.clientX - rect.left, e.deltaY < 0 ? 1.25 : 0.8);
    draw();
  },
  { passive: false },
);
let dragX: number | undefined;
timelinePane.addEventListener('mousedown', (e) => {
  dragX = e.clientX;
});
window.addEventListener('mouseup', () => {
  dragX = undefined;
});
window.addEventListener('mousemove', (e) => {
  if (dragX !== undefined && view) {
    view = pan(view, e.clientX - dragX);
    dragX = e.clientX;
    draw();
  }
});
window.addEventListener('resize', () => {
  if (view) {
    view = { ...view, width: timelinePane.clientWidth || view.width };
    draw();
  }
});

window.addEventListener('message', (e: MessageEvent<ToWebview>) => {
  const m = e.data;
  if (m.type !== 'data') {
    return;
  }
  const first = !model || model.runId !== m.timeline.runId;
  model = m.timeline;
  // The filters the extension asked with (a lens opens the panel on its flow); never under
  // the user's cursor while a live run refreshes the panel.
  for (const [input, value] of [[flowInput, m.filters.flow], [whereInput, m.filters.where], [verdictSelect, m.filters.verdict]] as const) {
    if (document.activeElement !== input) {
      input.value = value;
    }
  }
  if (first || !view) {
    view = fullView(model, timelinePane.clientWidth || 800);
  }
  draw();
  drawFlows(m.graph);
  drawLatency(m.timeline);
});

vscode.postMessage({ type: 'ready' });
