import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Store } from '../../src/common/versionCache';
import { MAX_ENTRIES, VersionCache } from '../../src/common/versionCache';

/** An in-memory Memento; `files` maps a path to its fingerprint (absent: the file is gone). */
function setup(): { cache: VersionCache; files: Map<string, string>; data: Map<string, unknown> } {
  const data = new Map<string, unknown>();
  const store: Store = {
    get: <T>(key: string, defaultValue: T): T => (data.has(key) ? (structuredClone(data.get(key)) as T) : defaultValue),
    update: (key, value) => {
      data.set(key, structuredClone(value));
      return Promise.resolve();
    },
  };
  const files = new Map([
    ['/shims/python3', 'shim:1'],
    ['/versions/3.11.7/bin/python3.11', 'py311:1'],
    ['/versions/3.12.1/bin/python3.12', 'py312:1'],
  ]);
  return { cache: new VersionCache(store, (f) => files.get(f)), files, data };
}

const py311 = { version: '3.11.7', executable: '/versions/3.11.7/bin/python3.11' };

describe('VersionCache', () => {
  it('gives back the version and the executable a command resolved to, in the same folder', async () => {
    const { cache } = setup();
    await cache.set('/shims/python3', '/ws/a', py311);
    assert.deepEqual(cache.get('/shims/python3', '/ws/a'), py311);
    // A shim picks its Python per folder (.python-version): another folder probes again.
    assert.equal(cache.get('/shims/python3', '/ws/b'), undefined);
    assert.equal(cache.get('/usr/bin/python3', '/ws/a'), undefined);
  });

  it('drops an entry when the command changes', async () => {
    const { cache, files } = setup();
    await cache.set('/shims/python3', '/ws', py311);
    files.set('/shims/python3', 'shim:2');
    assert.equal(cache.get('/shims/python3', '/ws'), undefined);
  });

  it('drops an entry when the executable it resolved to is upgraded or removed', async () => {
    const { cache, files } = setup();
    await cache.set('/shims/python3', '/ws', py311);
    files.set('/versions/3.11.7/bin/python3.11', 'py311:2');
    assert.equal(cache.get('/shims/python3', '/ws'), undefined);
    await cache.set('/shims/python3', '/ws', py311);
    files.delete('/versions/3.11.7/bin/python3.11');
    assert.equal(cache.get('/shims/python3', '/ws'), undefined);
  });

  it('stores nothing for files it cannot fingerprint', async () => {
    const { cache, data } = setup();
    await cache.set('python3', '/ws', py311);
    await cache.set('/shims/python3', '/ws', { version: '3.11.7', executable: '/gone/python' });
    assert.equal(data.size, 0);
  });

  it('forgets an entry on delete (a server that did not start with it)', async () => {
    const { cache } = setup();
    await cache.set('/shims/python3', '/ws', py311);
    await cache.set('/shims/python3', '/other', py311);
    await cache.delete('/shims/python3', '/ws');
    assert.equal(cache.get('/shims/python3', '/ws'), undefined);
    assert.deepEqual(cache.get('/shims/python3', '/other'), py311);
  });

  it('keeps the most recently stored entries only', async () => {
    const { cache, data } = setup();
    for (let i = 0; i <= MAX_ENTRIES; i++) {
      await cache.set('/shims/python3', `/ws/${i}`, py311);
    }
    assert.equal(Object.keys(data.get(VersionCache.KEY) as object).length, MAX_ENTRIES);
    assert.equal(cache.get('/shims/python3', '/ws/0'), undefined);
    // Storing /ws/1 again makes it the newest: the next new entry pushes out /ws/2 instead.
    await cache.set('/shims/python3', '/ws/1', { version: '3.12.1', executable: '/versions/3.12.1/bin/python3.12' });
    await cache.set('/shims/python3', '/ws/new', py311);
    assert.equal(Object.keys(data.get(VersionCache.KEY) as object).length, MAX_ENTRIES);
    assert.equal(cache.get('/shims/python3', '/ws/2'), undefined);
    assert.equal(cache.get('/shims/python3', '/ws/1')?.version, '3.12.1');
    assert.deepEqual(cache.get('/shims/python3', `/ws/${MAX_ENTRIES}`), py311);
  });
});
