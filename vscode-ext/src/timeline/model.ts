/**
 * The answers of `flowscribe/timeline` and `flowscribe/flowGraph` (docs/timeline.md), and
 * the messages between the timeline panel and its webview. Plain types: no editor or DOM
 * import, so the extension, the webview script and the unit tests share them.
 */

export type Verdict = 'passed' | 'failed' | 'unfinished' | 'orphaned' | 'running';

export interface Lane {
  lane: number;
  pid: number;
  thread: string;
  /** Instances in the window not drawn as bars, and where they started (bins over the window). */
  hidden: number;
  density: number[] | null;
}

export interface Bar {
  instance: string;
  flowId: string;
  parent: string | null;
  lane: number;
  depth: number;
  /** Seconds since the run's first event. */
  start: number;
  end: number;
  status: Verdict;
  errorClass: string | null;
  correlation: Record<string, unknown>;
  file: string | null;
  line: number | null;
  uri: string | null;
  marks: number;
  ticks: number;
}

export interface Mark {
  t: number;
  kind: 'failure' | 'exception';
  lane: number;
  instance: string | null;
  flowId: string | null;
  errorClass: string | null;
  exceptionType: string | null;
  reason: string | null;
  severity: string | null;
  file: string | null;
  line: number | null;
  uri: string | null;
  eventId: string | null;
  evidence: string;
}

export interface Tick {
  t: number;
  kind: string;
  lane: number;
  instance: string | null;
  step: string | null;
  file: string | null;
  line: number | null;
  uri: string | null;
  eventId: string | null;
  evidence: string;
}

/** One flow's durations over the whole run (flowscribe.artifacts.latency's `to_json`). */
export interface FlowLatency {
  flowId: string;
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** ra.yaml's `performance.latency_buckets_ms`; `counts` has one more (above them all). */
  boundsMs: number[];
  counts: number[];
  labels: string[];
  slaP95Ms: number | null;
  overSla: boolean;
  estimated: boolean;
  bimodal: boolean;
}

export interface TimelineModel {
  runId: string | null;
  duration?: number;
  window?: { since: number; until: number };
  ended?: boolean;
  lanes: Lane[];
  bars: Bar[];
  marks: Mark[];
  ticks: Tick[];
  totals?: { events: number; instances: number; bars: number; marks: number; ticks: number; ticksShown: number };
  truncated?: boolean;
  /** Per flow of the selection: over their SLA first, then slowest p95 first. */
  latency?: FlowLatency[];
  error?: string;
}

export interface GraphNode {
  id: string;
  parent: string | null;
  catalogued: boolean;
  enabled: boolean;
  description: string;
  status: string;
  counts: Record<Verdict, number>;
  marks: number;
}

export interface SequenceItem {
  t: number;
  kind: string;
  participant: number;
  from?: number | null;
  label: string;
  reason?: string | null;
  file: string | null;
  line: number | null;
  uri: string | null;
}

export interface FlowGraphModel {
  runId: string | null;
  nodes: GraphNode[];
  sequence: {
    instance: string;
    flowId: string;
    participants: { instance: string; flowId: string; status: Verdict }[];
    items: SequenceItem[];
    more: number;
  } | null;
  error?: string;
}

/** What the panel asks the server for. */
export interface TimelineFilters {
  flow: string;
  where: string;
  verdict: '' | Verdict;
}

/** Webview -> extension. */
export type FromWebview =
  | { type: 'ready' }
  | { type: 'filters'; filters: TimelineFilters }
  | { type: 'open'; uri: string; line: number | null };

/** Extension -> webview. */
export type ToWebview = { type: 'data'; timeline: TimelineModel; graph: FlowGraphModel; filters: TimelineFilters };
