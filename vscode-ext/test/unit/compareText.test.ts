import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderComparison } from '../../src/views/compareText';

describe('renderComparison (Compare with Previous Run)', () => {
  it('names both runs, then one line per change with its instance', () => {
    const text = renderComparison({
      before: 'r1',
      after: 'r2',
      changes: [
        { kind: 'verdict', flowId: 'data/fetch', text: 'data/fetch: passed -> failed', where: '' },
        { kind: 'value', flowId: 'data/fetch', text: 'rows: 390 -> 0', where: 'ticker=NFLX' },
      ],
    });
    assert.equal(
      text,
      'before: r1\nafter:  r2\n2 changes:\n  data/fetch: passed -> failed\n  rows: 390 -> 0  [ticker=NFLX]\n',
    );
  });

  it('keeps recorded text on its line and says why there is nothing to compare', () => {
    const text = renderComparison({ before: 'a', after: 'b', changes: [{ kind: 'value', flowId: null, text: 'x\ny\u2028z', where: '' }] });
    assert.ok(text.includes('  x y z\n'));
    assert.equal(renderComparison({ error: 'no run to compare r1 with (it is the only run)' }),
      'Nothing to compare: no run to compare r1 with (it is the only run).\n');
    assert.match(renderComparison(undefined), /did not answer/);
    assert.match(renderComparison({ before: 'a', after: 'b', changes: [] }), /no changes/);
  });
});
