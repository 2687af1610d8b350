/**
 * The flowscribe server's custom LSP requests and notifications (docs/lsp-protocol.md).
 * Plain types: no editor import, so unit tests can use them.
 */

export type FlowStatus = 'passed' | 'failed' | 'unfinished' | 'never_run' | 'disabled' | 'uncatalogued';

/** An LSP location as the server sends it (0-based positions). */
export interface Location {
  uri: string;
  range: {
    start: { line: number; character: number };
    end: { line: number; character: number };
  };
}

export interface LastFailure {
  errorClass: string | null;
  /** The exception's type (`TimeoutError`) when an exception failed the flow. */
  exceptionType?: string | null;
  reason: string | null;
  uri: string | null;
  /** 1-based line of the recorded failure. */
  line: number | null;
  runId: string;
  eventId: string;
}

export interface FlowNode {
  id: string;
  parent: string | null;
  description: string | null;
  status: FlowStatus;
  /** As summary.md counts them: unfinished ended with no verdict, orphaned were still open at the end. */
  counts: { passed: number; failed: number; unfinished: number; orphaned?: number };
  p95Ms: number | null;
  slaP95Ms: number | null;
  markers: Location[];
  catalog: Location | null;
  lastFailure: LastFailure | null;
  workspaceFolder: string;
}

export interface RunVerdicts {
  passed: number;
  failed: number;
  unfinished: number;
  /** Still open when the run ended: given for the latest run. */
  orphaned?: number;
  failures: number;
  exceptions: number;
}

export interface RunInfo {
  runId: string;
  /** Unix time in seconds, or an ISO string; null while unknown. */
  started: number | string | null;
  ended: number | string | null;
  app: string | null;
  mode: string | null;
  verdicts: RunVerdicts;
  artifacts: { summary: string | null; ask: string | null; trace: string | null };
  workspaceFolder: string;
}

/** One trace event (docs/trace-format.md) plus the `uri` of its file. */
export interface TraceEvent {
  id?: string;
  run_id?: string;
  ts?: number;
  event_type?: string;
  flow_id?: string | null;
  instance?: string | null;
  step?: string | null;
  file?: string | null;
  line?: number | null;
  function?: string | null;
  severity?: string | null;
  error_class?: string | null;
  reason?: string | null;
  status?: string | null;
  duration_ms?: number | null;
  value?: number | null;
  unit?: string | null;
  uri?: string | null;
}

export interface FlowEventsParams {
  flowId: string;
  runId?: string;
  instance?: string;
}

export interface FailurePromptParams {
  runId: string;
  eventId: string;
}

export interface RunsChangedParams {
  workspaceFolder: string;
  runId: string;
}

/** `data` of a `flowscribe.trace` diagnostic. */
export interface TraceDiagnosticData {
  runId: string;
  eventId: string;
  flowId: string | null;
  instance: string | null;
}

export const Methods = {
  flows: 'flowscribe/flows',
  runs: 'flowscribe/runs',
  flowEvents: 'flowscribe/flowEvents',
  failurePrompt: 'flowscribe/failurePrompt',
  runsChanged: 'flowscribe/runsChanged',
} as const;

/** Diagnostic sources the server publishes. */
export const DiagnosticSources = {
  trace: 'flowscribe.trace',
  catalog: 'flowscribe.catalog',
} as const;

/** Reads a `flowscribe.trace` diagnostic's data, tolerating anything malformed. */
export function traceDiagnosticData(data: unknown): TraceDiagnosticData | undefined {
  if (typeof data !== 'object' || data === null) {
    return undefined;
  }
  const d = data as Record<string, unknown>;
  if (typeof d.runId !== 'string' || typeof d.eventId !== 'string') {
    return undefined;
  }
  return {
    runId: d.runId,
    eventId: d.eventId,
    flowId: typeof d.flowId === 'string' ? d.flowId : null,
    instance: typeof d.instance === 'string' ? d.instance : null,
  };
}
