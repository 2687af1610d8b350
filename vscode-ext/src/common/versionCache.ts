/**
 * What probing an interpreter found, kept across sessions so a start need not run it again.
 * Pure (the memento and the file fingerprint are passed in) so the rules are unit-tested.
 */

/** The part of `vscode.Memento` used here. */
export interface Store {
  get<T>(key: string, defaultValue: T): T;
  update(key: string, value: unknown): PromiseLike<void>;
}

/** A probed interpreter: its version and the binary that actually runs (a shim resolved). */
export interface Probed {
  version: string;
  executable: string;
}

interface Entry extends Probed {
  /** Fingerprints of the command and of the executable when they were probed. */
  command: string;
  binary: string;
}

/** At most this many (folder, command) pairs are kept; the least recently stored go first. */
export const MAX_ENTRIES = 32;

/**
 * Running a pyenv shim just to read its version costs a few hundred milliseconds of every
 * start, and starting the server through it costs as much again. An entry holds only while
 * both the command and the binary it resolved to keep their size, mtime and inode (a Python
 * upgraded or removed is probed again). The key includes the folder the probe ran in, because
 * a shim picks its Python from the folder's `.python-version`. A shim that now picks another
 * Python (a `.python-version` edited) keeps the binary it resolved to while that one exists;
 * if it no longer starts, the server drops the entry and probes again.
 */
export class VersionCache {
  static readonly KEY = 'pythonInterpreters';

  constructor(
    private readonly store: Store,
    /** `size:mtime:inode` of a file, undefined when it cannot be read. */
    private readonly fingerprint: (file: string) => string | undefined,
  ) {}

  get(command: string, cwd: string): Probed | undefined {
    const e = this.entries()[key(command, cwd)];
    if (!e || e.command !== this.fingerprint(command) || e.binary !== this.fingerprint(e.executable)) {
      return undefined;
    }
    return { version: e.version, executable: e.executable };
  }

  async set(command: string, cwd: string, probed: Probed): Promise<void> {
    const fpCommand = this.fingerprint(command);
    const fpBinary = this.fingerprint(probed.executable);
    if (!fpCommand || !fpBinary) {
      return;
    }
    const k = key(command, cwd);
    const entries = this.entries();
    delete entries[k];
    const kept = Object.entries(entries).slice(-(MAX_ENTRIES - 1));
    kept.push([k, { ...probed, command: fpCommand, binary: fpBinary }]);
    await this.store.update(VersionCache.KEY, Object.fromEntries(kept));
  }

  async delete(command: string, cwd: string): Promise<void> {
    const entries = this.entries();
    delete entries[key(command, cwd)];
    await this.store.update(VersionCache.KEY, entries);
  }

  /** A copy, so callers may change it. */
  private entries(): Record<string, Entry | undefined> {
    return { ...this.store.get<Record<string, Entry | undefined>>(VersionCache.KEY, {}) };
  }
}

function key(command: string, cwd: string): string {
  return JSON.stringify([cwd, command]);
}
