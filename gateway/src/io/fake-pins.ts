import type { InputPin, Level, OutputPin, PinFactory } from './gpio.js';

// GPIO lines in memory, for tests: a test moves the levels by hand (a door opens, a contact
// bounces, the line vanishes) and reads back what the gateway wrote to its outputs.

type Watcher = (err: Error | null | undefined, level: Level) => void;

interface FakeLine {
  level: Level;
  error?: Error;
  exportFailures: number;
  open: number;
  watchers: Set<Watcher>;
  writes: { at: number; level: Level }[];
}

export class FakePins implements PinFactory {
  available = true;
  unavailableReason?: string;
  /** What `pull()` answers; every call is recorded in `pulls`. */
  pullResult: { ok: true } | { ok: false; reason: string } = { ok: true };
  readonly pulls: { line: number; pull: 'up' | 'down' | 'none' }[] = [];
  private readonly lines = new Map<number, FakeLine>();

  /**
   * Moves an input line; its watchers hear about it when the level actually changes, unless
   * `missEdge` (the kernel lost the edge, as it can under load).
   */
  set(line: number, level: Level, opts: { missEdge?: boolean } = {}): void {
    const l = this.line(line);
    if (l.level === level) return;
    l.level = level;
    if (l.error || opts.missEdge) return;
    for (const w of [...l.watchers]) w(null, level);
  }

  /** Sets `levels[i]` at `i * everyMs` from now; resolves after the last one. */
  bounce(line: number, levels: readonly Level[], everyMs: number): Promise<void> {
    return new Promise((resolve) => {
      levels.forEach((level, i) => {
        const last = i === levels.length - 1;
        const step = () => {
          this.set(line, level);
          if (last) resolve();
        };
        if (i === 0) step();
        else setTimeout(step, i * everyMs);
      });
      if (levels.length === 0) resolve();
    });
  }

  /** The line breaks: watchers get `err`, reads and writes reject, until `heal`. */
  fail(line: number, err: Error): void {
    const l = this.line(line);
    l.error = err;
    for (const w of [...l.watchers]) w(err, l.level);
  }

  heal(line: number): void {
    this.line(line).error = undefined;
  }

  /** The next `n` attempts to open the line throw (busy, no permission). */
  exportFailures(line: number, n: number): void {
    this.line(line).exportFailures = n;
  }

  writes(line: number): { at: number; level: Level }[] {
    return this.line(line).writes;
  }

  level(line: number): Level {
    return this.line(line).level;
  }

  watcherCount(line: number): number {
    return this.line(line).watchers.size;
  }

  /** Handles opened and not closed yet. */
  openCount(line: number): number {
    return this.line(line).open;
  }

  input(line: number): InputPin {
    const l = this.exportLine(line);
    const mine = new Set<Watcher>();
    let closed = false;
    return {
      read: () => (l.error ? Promise.reject(l.error) : Promise.resolve(l.level)),
      watch: (cb) => {
        mine.add(cb);
        l.watchers.add(cb);
      },
      unwatchAll: () => {
        for (const w of mine) l.watchers.delete(w);
        mine.clear();
      },
      close: () => {
        for (const w of mine) l.watchers.delete(w);
        mine.clear();
        if (!closed) l.open--;
        closed = true;
      },
    };
  }

  output(line: number): OutputPin {
    const l = this.exportLine(line);
    let closed = false;
    return {
      write: (level) => {
        if (closed) return Promise.reject(new Error(`line ${line} is closed`));
        if (l.error) return Promise.reject(l.error);
        l.level = level;
        l.writes.push({ at: Date.now(), level });
        return Promise.resolve();
      },
      close: () => {
        if (!closed) l.open--;
        closed = true;
      },
    };
  }

  pull(line: number, pull: 'up' | 'down' | 'none'): Promise<{ ok: true } | { ok: false; reason: string }> {
    this.pulls.push({ line, pull });
    return Promise.resolve(this.pullResult);
  }

  private exportLine(line: number): FakeLine {
    if (!this.available) throw new Error(this.unavailableReason ?? 'no GPIO');
    const l = this.line(line);
    if (l.exportFailures > 0) {
      l.exportFailures--;
      throw Object.assign(new Error(`EBUSY: line ${line} is busy`), { code: 'EBUSY' });
    }
    l.open++;
    return l;
  }

  private line(line: number): FakeLine {
    let l = this.lines.get(line);
    if (!l) {
      l = { level: 0, exportFailures: 0, open: 0, watchers: new Set(), writes: [] };
      this.lines.set(line, l);
    }
    return l;
  }
}
