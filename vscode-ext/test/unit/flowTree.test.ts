import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FlowNode } from '../../src/common/protocol';
import type { TreeNode } from '../../src/views/flowTree';
import {
  buildFlowTree,
  flowAccessibleLabel,
  flowContextValue,
  flowDescription,
  flowTooltipLines,
  formatMs,
  latencyText,
  shortCounts,
  walkFlows,
} from '../../src/views/flowTree';

const WS = 'file:///ws';

function flow(id: string, over: Partial<FlowNode> = {}): FlowNode {
  return {
    id,
    parent: null,
    description: '',
    status: 'never_run',
    catalogued: true,
    counts: { passed: 0, failed: 0, unfinished: 0, orphaned: 0 },
    p95Ms: null,
    slaP95Ms: null,
    markers: [],
    catalog: null,
    lastFailure: null,
    runId: 'r1',
    workspaceFolder: WS,
    projectRoot: WS,
    ...over,
  };
}

/** The tree as nested [label, children] pairs, for whole-shape comparisons. */
function shape(nodes: readonly TreeNode[]): unknown[] {
  return nodes.map((n) => (n.kind === 'folder' ? [`folder ${n.name}`, shape(n.children)] : [n.flow.id, shape(n.children)]));
}

describe('buildFlowTree', () => {
  it('nests flows under their catalog parent, keeping the server order', () => {
    const tree = buildFlowTree(
      [
        flow('premarket/prepare'),
        flow('data/fetch/minute_candles', { parent: 'premarket/prepare' }),
        flow('indicators/ema/compute', { parent: 'data/fetch/minute_candles' }),
        flow('agent/decision/evaluate'),
        flow('orders/submit', { parent: 'agent/decision/evaluate' }),
      ],
      () => 'ws',
    );
    assert.deepEqual(shape(tree), [
      ['premarket/prepare', [['data/fetch/minute_candles', [['indicators/ema/compute', []]]]]],
      ['agent/decision/evaluate', [['orders/submit', []]]],
    ]);
  });

  it('makes a flow whose parent is unknown a root', () => {
    const tree = buildFlowTree([flow('a', { parent: 'missing' }), flow('b', { parent: 'a' })], () => 'ws');
    assert.deepEqual(shape(tree), [['a', [['b', []]]]]);
  });

  it('survives parent loops: every flow still appears exactly once', () => {
    const flows = [flow('x', { parent: 'y' }), flow('y', { parent: 'z' }), flow('z', { parent: 'y' }), flow('self', { parent: 'self' })];
    const tree = buildFlowTree(flows, () => 'ws');
    const ids = [...walkFlows(tree)].map((n) => n.flow.id).sort();
    assert.deepEqual(ids, ['self', 'x', 'y', 'z']);
  });

  it('groups by workspace folder when flows come from several folders', () => {
    const tree = buildFlowTree(
      [flow('a', { workspaceFolder: 'file:///one' }), flow('a', { workspaceFolder: 'file:///two' }), flow('b', { parent: 'a', workspaceFolder: 'file:///two' })],
      (uri) => uri.slice('file:///'.length),
    );
    assert.deepEqual(shape(tree), [
      ['folder one', [['a', []]]],
      ['folder two', [['a', [['b', []]]]]],
    ]);
    const keys = [...walkFlows(tree)].map((n) => n.key);
    assert.equal(new Set(keys).size, keys.length, 'tree item ids must be unique');
    const b = [...walkFlows(tree)].find((n) => n.flow.id === 'b');
    assert.equal(b?.parentKey, 'flow:file:///two#a');
  });
});

describe('flow texts', () => {
  const failed = flow('orders/submit', {
    status: 'failed',
    description: 'Submit order to broker and await ack.',
    counts: { passed: 3, failed: 2, unfinished: 0, orphaned: 0 },
    p95Ms: 1240,
    slaP95Ms: 1000,
    lastFailure: {
      errorClass: 'EXTERNAL.TIMEOUT',
      exceptionType: null,
      reason: 'broker did not ack in 2s',
      file: 'src/orders/broker_x.py',
      uri: 'file:///ws/src/orders/broker_x.py',
      line: 57,
      runId: 'r2',
      eventId: 'p1-40',
    },
    catalog: { uri: 'file:///ws/.autodev/flows.yaml', range: { start: { line: 3, character: 4 }, end: { line: 3, character: 20 } } },
  });

  it('describes counts, the last failure and p95 against the SLA, short enough for a row', () => {
    assert.equal(flowDescription(failed), '✓3 ✗2 EXTERNAL.TIMEOUT · p95 1.2 s > SLA 1.0 s');
    assert.equal(latencyText({ p95Ms: 812, slaP95Ms: 1000 }), 'p95 812 ms ≤ SLA 1.0 s');
    assert.equal(latencyText({ p95Ms: 12.4, slaP95Ms: null }), 'p95 12 ms');
    assert.equal(latencyText({ p95Ms: null, slaP95Ms: 1000 }), undefined);
    assert.equal(formatMs(25_000), '25 s');
  });

  it('names an exception by its type, not its SYSTEM class', () => {
    const raised = flow('inventory/reserve', {
      status: 'failed',
      counts: { passed: 4, failed: 1, unfinished: 0, orphaned: 0 },
      lastFailure: {
        errorClass: 'SYSTEM',
        exceptionType: 'TimeoutError',
        reason: 'TimeoutError: inventory service did not answer in 2s',
        file: 'shop/inventory.py',
        uri: 'file:///ws/shop/inventory.py',
        line: 21,
        runId: 'r3',
        eventId: 'p1-25',
      },
    });
    assert.equal(flowDescription(raised), '✓4 ✗1 TimeoutError');
    assert.equal(
      flowTooltipLines(raised, (uri) => uri.replace('file:///ws/', '')).at(-1),
      'Last failure: TimeoutError: inventory service did not answer in 2s at shop/inventory.py:21 (run r3)',
    );
    assert.equal(flowAccessibleLabel(raised), 'inventory/reserve, failed, 4 passed, 1 failed, last TimeoutError');
  });

  it('keeps the counts short, with unfinished and orphaned apart as summary.md says them', () => {
    assert.equal(shortCounts({ passed: 2, failed: 1, unfinished: 0, orphaned: 0 }), '✓2 ✗1');
    assert.equal(shortCounts({ passed: 0, failed: 0, unfinished: 0, orphaned: 3 }), '3 orphaned');
    assert.equal(shortCounts({ passed: 3, failed: 1, unfinished: 1, orphaned: 0 }), '✓3 ✗1 · 1 unfinished');
    assert.equal(shortCounts({ passed: 0, failed: 0, unfinished: 0, orphaned: 0 }), undefined);
    assert.equal(shortCounts({ passed: 0, failed: 2, unfinished: 0, orphaned: 0 }, 'DATA.EMPTY'), '✗2 DATA.EMPTY');
    // A flow that did not fail says nothing of an old failure.
    assert.equal(flowDescription(flow('a', { status: 'unfinished', counts: { passed: 0, failed: 0, unfinished: 0, orphaned: 3 } })), '3 orphaned');
  });

  it('says what the status means when there is nothing to count', () => {
    assert.equal(flowDescription(flow('a')), 'never run');
    assert.equal(flowDescription(flow('a', { status: 'disabled' })), 'disabled');
    assert.equal(flowDescription(flow('a', { status: 'uncatalogued' })), 'not in catalog');
  });

  it('gives screen readers the flow id and its status first', () => {
    assert.equal(
      flowAccessibleLabel(failed),
      'orders/submit, failed, 3 passed, 2 failed, last EXTERNAL.TIMEOUT, p95 1.2 s > SLA 1.0 s',
    );
    assert.equal(flowAccessibleLabel(flow('premarket/prepare')), 'premarket/prepare, never run');
  });

  it('puts the last failure with its file:line in the tooltip', () => {
    const lines = flowTooltipLines(failed, (uri) => uri.replace('file:///ws/', ''));
    assert.deepEqual(lines, [
      'orders/submit — failed',
      'Submit order to broker and await ack.',
      'Latest run: 3 passed, 2 failed',
      'p95 1.2 s > SLA 1.0 s (over SLA)',
      'Last failure: EXTERNAL.TIMEOUT: broker did not ack in 2s at src/orders/broker_x.py:57 (run r2)',
    ]);
  });

  it('marks which context actions apply', () => {
    assert.equal(flowContextValue(failed), 'flow status-failed hasCatalog hasFailure');
    assert.equal(flowContextValue(flow('a')), 'flow status-never_run');
  });
});
