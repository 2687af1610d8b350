/**
 * The flowscribe server's custom LSP requests and notifications (docs/lsp-protocol.md).
 * Plain types: no editor import, so unit tests can use them.
 */

export type FlowStatus = 'passed' | 'failed' | 'unfinished' | 'never_run' | 'disabled' | 'uncatalogued';

/** An LSP position (0-based line, column in the negotiated encoding). */
export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** An LSP location as the server sends it. */
export interface Location {
  uri: string;
  range: Range;
}

export interface LastFailure {
  errorClass: string | null;
  /** The exception's type (`TimeoutError`) when an exception failed the flow. */
  exceptionType: string | null;
  reason: string | null;
  /** As recorded (relative to the project root, usually). */
  file: string | null;
  /** Only for a file inside the workspace folders. */
  uri: string | null;
  /** 1-based line of the recorded failure. */
  line: number | null;
  runId: string | null;
  eventId: string | null;
}

/** As summary.md counts them: unfinished ended with no verdict, orphaned were still open at the end. */
export interface FlowCounts {
  passed: number;
  failed: number;
  unfinished: number;
  orphaned: number;
}

export interface FlowNode {
  id: string;
  parent: string | null;
  description: string;
  status: FlowStatus;
  /** Declared in flows.yaml (else only the run or the code knows it). */
  catalogued: boolean;
  counts: FlowCounts;
  p95Ms: number | null;
  slaP95Ms: number | null;
  markers: Location[];
  catalog: Location | null;
  lastFailure: LastFailure | null;
  runId: string | null;
  workspaceFolder: string;
  projectRoot: string;
}

export interface FlowsResult {
  flows: FlowNode[];
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

export interface RunArtifacts {
  summary: string | null;
  ask: string | null;
  trace: string | null;
}

export interface RunInfo {
  runId: string;
  /** Unix time in seconds; null while unknown (`ended`: still running, or killed). */
  started: number | null;
  ended: number | null;
  app: string | null;
  mode: string | null;
  verdicts: RunVerdicts;
  artifacts: RunArtifacts;
  isLatest: boolean;
  /** A pytest session's run: shown apart from the app's runs. */
  testRun: boolean;
  workspaceFolder: string;
  projectRoot: string;
}

export interface RunsResult {
  runs: RunInfo[];
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

export interface FlowEventsResult {
  events?: TraceEvent[];
  runId?: string | null;
  total?: number;
  truncated?: boolean;
  error?: string;
}

export interface FailurePromptParams {
  runId: string;
  eventId: string;
  /** The prompt's size budget, in estimated tokens (the server bounds it). */
  budgetTokens?: number;
}

export interface FailurePromptResult {
  prompt?: string;
  runId?: string | null;
  eventId?: string;
  /** The budget the prompt was fitted to. */
  budgetTokens?: number;
  error?: string;
}

/** One difference between two runs (`flowscribe diff`'s line). */
export interface RunChange {
  /** verdict, new_failure, fixed, step_added, step_removed, value or timing. */
  kind: string;
  flowId: string | null;
  text: string;
  /** The instance's correlation (`ticker=NFLX`); empty when not one instance's. */
  where: string;
}

export interface CompareRunsParams {
  runId?: string;
  baseRunId?: string;
  workspaceFolder?: string;
}

export interface CompareRunsResult {
  before?: string;
  after?: string;
  changes?: RunChange[];
  workspaceFolder?: string;
  error?: string;
}

/** The arguments of `flowscribe/agentTool`: one of `flowscribe mcp`'s tools, by its MCP name. */
export interface AgentToolParams {
  tool: string;
  input?: object;
  projectRoot?: string;
  /** Run nothing: `verify_fix` says the command it would run. */
  prepare?: boolean;
}

/** A tool's answer: Markdown with recorded text fenced as data; `isError` when refused. */
export interface AgentToolResult {
  text: string;
  isError: boolean;
  /** With `prepare`: the recorded command line (untrusted: show it as code). */
  command?: string;
  /** Its folder, relative to the project root. */
  cwd?: string;
}

export interface RunsChangedParams {
  workspaceFolder: string;
  projectRoot: string;
  runId: string | null;
}

/** `data` of a `flowscribe.trace` diagnostic. */
export interface TraceDiagnosticData {
  runId: string;
  eventId: string;
  flowId: string | null;
  instance: string | null;
  count: number;
  stale: boolean;
  /** 1-based, as recorded. */
  recordedLine: number;
}

export const Methods = {
  flows: 'flowscribe/flows',
  runs: 'flowscribe/runs',
  flowEvents: 'flowscribe/flowEvents',
  failurePrompt: 'flowscribe/failurePrompt',
  compareRuns: 'flowscribe/compareRuns',
  agentTool: 'flowscribe/agentTool',
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
    count: typeof d.count === 'number' ? d.count : 1,
    stale: d.stale === true,
    recordedLine: typeof d.recordedLine === 'number' ? d.recordedLine : 0,
  };
}
