import { statfs } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../core/clock.js';
import type { DiskUsage, HardwareHealth, Sample } from './checks.js';

// The self-watch's readings. The gateway passes what only it knows (is the broker connected, does
// the store take a write); the disk and the clocks are read here.

export interface ProbeSources {
  /** The data directory: its file system is the one that fills up. */
  dataDir: string;
  clock: Clock;
  /** Proves the store takes a write (a row in a small table); throws or rejects when it cannot. */
  store: () => void | Promise<void>;
  broker: () => boolean;
  /** Absent when no uplink is configured. */
  uplink?: () => boolean;
  hardware?: () => readonly HardwareHealth[];
  /**
   * A store probe still running after this long counts as failing (a disk that hangs). A synchronous
   * probe (better-sqlite3) that blocks holds the whole event loop instead: the systemd watchdog
   * (sd-notify.ts) is what catches that.
   */
  storeTimeoutMs?: number;
  /** For tests. */
  monotonic?: () => number;
  disk?: (dir: string) => Promise<DiskUsage>;
}

export interface Probes {
  /** Never rejects: a reading that fails says so in the sample. */
  sample(): Promise<Sample>;
}

export async function diskUsage(dir: string): Promise<DiskUsage> {
  const s = await statfs(dir);
  return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
}

export function createProbes(src: ProbeSources): Probes {
  const mono = src.monotonic ?? (() => performance.now());
  const readDisk = src.disk ?? diskUsage;
  return {
    async sample() {
      const [disk, store] = await Promise.all([
        readDisk(src.dataDir).then(
          (d) => ({ disk: d }),
          (err: unknown) => ({ diskError: message(err) }),
        ),
        probeStore(src.store, src.storeTimeoutMs ?? 5000, mono),
      ]);
      const sample: Sample = {
        at: src.clock.now(),
        mono: mono(),
        ...disk,
        ...store,
        brokerConnected: safe(src.broker, false),
        hardware: safe(src.hardware ?? (() => []), []),
      };
      if (src.uplink) sample.uplinkConnected = safe(src.uplink, false);
      return sample;
    },
  };
}

async function probeStore(
  probe: () => void | Promise<void>,
  timeoutMs: number,
  mono: () => number,
): Promise<Pick<Sample, 'storeOk' | 'storeError' | 'storeMs'>> {
  const t0 = mono();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([Promise.resolve().then(probe), timeout]);
    return { storeOk: true, storeMs: mono() - t0 };
  } catch (err) {
    return { storeOk: false, storeError: message(err), storeMs: mono() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

function safe<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
