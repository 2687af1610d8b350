import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TraceEvent } from '../../src/common/protocol';
import { eventDetails, plain, renderEvents } from '../../src/views/eventLines';

const rel = (uri: string): string => uri.replace('file:///ws/', '');
const ts = new Date(2026, 10, 25, 14, 3, 7, 123).getTime() / 1000;

function ev(over: TraceEvent): TraceEvent {
  return { ts, flow_id: 'orders/submit', ...over };
}

describe('renderEvents', () => {
  const events: TraceEvent[] = [
    ev({ event_type: 'flow_start', instance: 'i1', uri: 'file:///ws/app.py', line: 10 }),
    ev({ event_type: 'failure', step: 'ack', severity: 'error', error_class: 'EXTERNAL.TIMEOUT', reason: 'no ack', uri: 'file:///ws/app.py', line: 42 }),
    ev({ event_type: 'flow_end', status: 'failed', duration_ms: 2050, error_class: 'EXTERNAL.TIMEOUT', uri: 'file:///ws/app.py', line: 10 }),
  ];

  it('writes a header and one line per event with its file:line', () => {
    const { text } = renderEvents({ flowId: 'orders/submit' }, events, rel);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines[0], 'Events of flow orders/submit (latest run): 3');
    assert.equal(lines[3], '14:03:07.123  flow_start  app.py:10  instance i1');
    assert.equal(lines[4], '14:03:07.123  failure     app.py:42  [ack] error EXTERNAL.TIMEOUT: no ack');
    assert.equal(lines[5], '14:03:07.123  flow_end    app.py:10  failed in 2.0 s (EXTERNAL.TIMEOUT)');
  });

  it('links each file:line to the recorded line', () => {
    const { text, links } = renderEvents({ flowId: 'orders/submit', runId: 'r1' }, events, rel);
    const lines = text.split('\n');
    assert.equal(links.length, 3);
    const failure = links[1];
    assert.ok(failure);
    assert.equal(lines[failure.line]?.slice(failure.startColumn, failure.endColumn), 'app.py:42');
    assert.equal(failure.uri, 'file:///ws/app.py');
    assert.equal(failure.targetLine, 42);
  });

  it('never links anything but file: URIs', () => {
    const bad = [ev({ event_type: 'failure', uri: 'command:workbench.action.terminal.new', line: 1, reason: 'x' })];
    assert.deepEqual(renderEvents({ flowId: 'f' }, bad, rel).links, []);
  });

  it('keeps each event on one line whatever the trace holds', () => {
    const hostile = ev({ event_type: 'failure', reason: 'line1\nline2\r\u2028[x](command:evil)', uri: 'file:///ws/a.py', line: 1 });
    const { text } = renderEvents({ flowId: 'f' }, [hostile], rel);
    assert.equal(text.trimEnd().split('\n').length, 4);
    assert.match(text, /line1 line2 \[x\]\(command:evil\)/);
  });

  it('says so when the flow has no events', () => {
    assert.match(renderEvents({ flowId: 'f' }, [], rel).text, /No events recorded/);
  });
});

describe('event details', () => {
  it('describes metrics and exceptions', () => {
    assert.equal(eventDetails({ event_type: 'metric', step: 'latency', value: 12.5, unit: 'ms' }), 'latency = 12.5 ms');
    assert.equal(eventDetails({ event_type: 'exception', error_class: 'SYSTEM', reason: 'ZeroDivisionError: x' }), 'SYSTEM: ZeroDivisionError: x');
  });

  it('cuts long untrusted text', () => {
    assert.equal(plain('y'.repeat(500)).length, 240);
    assert.equal(plain(null), '');
    assert.equal(plain({ a: 1 }), '{"a":1}');
  });
});
