/**
 * Renders a flow's trace events as the lines of a read-only document, and where each
 * `file:line` sits so the document can link it. Everything here comes from a trace and is
 * untrusted: it becomes plain text on one line per event, and only `file:` URIs become links.
 * Pure: unit-tested directly.
 */
import type { TraceEvent } from '../common/protocol';
import { formatMs } from './flowTree';

export interface EventLink {
  /** 0-based line in the document. */
  line: number;
  startColumn: number;
  endColumn: number;
  /** A `file:` URI. */
  uri: string;
  /** 1-based line in the target file. */
  targetLine: number;
}

export interface RenderedEvents {
  text: string;
  links: EventLink[];
}

const MAX_TEXT = 240;

/** One line of untrusted text: control characters and newlines become spaces; long text is cut. */
export function plain(value: unknown, max = MAX_TEXT): string {
  if (value === null || value === undefined) {
    return '';
  }
  const s = (typeof value === 'string' ? value : JSON.stringify(value) ?? '')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** `14:03:07.123` in local time, or blanks without a timestamp. */
export function eventTime(ts: number | undefined): string {
  if (typeof ts !== 'number' || !Number.isFinite(ts)) {
    return '--:--:--.---';
  }
  const d = new Date(ts * 1000);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** What the event says, in one line. */
export function eventDetails(e: TraceEvent): string {
  const step = e.step ? `[${plain(e.step, 80)}] ` : '';
  const cls = plain(e.error_class, 80);
  const reason = plain(e.reason);
  const classAndReason = [cls, reason].filter((p) => p).join(': ');
  switch (e.event_type) {
    case 'flow_start':
      return e.instance ? `instance ${plain(e.instance, 80)}` : '';
    case 'flow_end': {
      const took = typeof e.duration_ms === 'number' ? ` in ${formatMs(e.duration_ms)}` : '';
      return `${plain(e.status, 40) || 'ended'}${took}${cls ? ` (${cls})` : ''}`;
    }
    case 'failure':
      return `${step}${e.severity ? `${plain(e.severity, 20)} ` : ''}${classAndReason}`.trim();
    case 'exception':
      return classAndReason;
    case 'metric': {
      const unit = e.unit ? ` ${plain(e.unit, 20)}` : '';
      return `${plain(e.step, 80)} = ${typeof e.value === 'number' ? e.value : '?'}${unit}`;
    }
    default:
      return `${step}${reason}`.trim();
  }
}

/** `src/app.py:42` for an event with a location, else ''. */
export function eventLocation(e: TraceEvent, relPath: (uri: string) => string): string {
  if (!e.uri && !e.file) {
    return '';
  }
  const where = plain(e.uri ? relPath(e.uri) : e.file, 200);
  return typeof e.line === 'number' ? `${where}:${e.line}` : where;
}

/** One event as a plain line, without links (also used in prompts). */
export function eventLine(e: TraceEvent, relPath: (uri: string) => string): string {
  const loc = eventLocation(e, relPath);
  const head = `${eventTime(e.ts)}  ${plain(e.event_type, 12).padEnd(10)}  ${loc}`;
  const details = eventDetails(e);
  return details ? `${head}  ${details}` : head;
}

export interface EventsHeader {
  flowId: string;
  runId?: string;
  instance?: string;
}

/** The whole document: a header, then one line per event, with the links of each file:line. */
export function renderEvents(
  header: EventsHeader,
  events: readonly TraceEvent[],
  relPath: (uri: string) => string,
): RenderedEvents {
  const scope = [header.runId ? `run ${header.runId}` : 'latest run', header.instance ? `instance ${header.instance}` : '']
    .filter((p) => p)
    .join(', ');
  const lines: string[] = [
    `Events of flow ${plain(header.flowId, 200)} (${scope}): ${events.length}`,
    'Read-only, recorded by flowscribe. Ctrl/Cmd+click a file:line to open it.',
    '',
  ];
  if (events.length === 0) {
    lines.push('No events recorded for this flow in this run.');
  }
  const links: EventLink[] = [];
  for (const e of events) {
    const text = eventLine(e, relPath);
    const loc = eventLocation(e, relPath);
    if (loc && e.uri && /^file:/i.test(e.uri) && typeof e.line === 'number' && e.line > 0) {
      const start = text.indexOf(loc, 12);
      if (start >= 0) {
        links.push({ line: lines.length, startColumn: start, endColumn: start + loc.length, uri: e.uri, targetLine: e.line });
      }
    }
    lines.push(text);
  }
  return { text: lines.join('\n') + '\n', links };
}
