import type { Scalar } from '../../../rules/src/model.js';
import type { WatchConfig } from '../config/schema.js';
import { PROBLEM_IDS, PROBLEMS, type ProblemId } from './model.js';

// The self-watch's decisions, without I/O: a sample of readings goes in, the problems that start
// and those that end come out, each with a reason a person on call can act on.

export interface DiskUsage {
  /** Bytes an unprivileged process may still write (statfs bavail). */
  freeBytes: number;
  totalBytes: number;
}

export interface HardwareHealth {
  /** The local source: `gpio`, `line:rs485-1`. */
  name: string;
  ok: boolean;
  detail?: string;
}

/** One round of readings (watch/probes.ts takes them). */
export interface Sample {
  /** Wall clock, epoch ms. */
  at: number;
  /** Monotonic ms (any origin): durations and clock jumps are measured against it. */
  mono: number;
  /** Absent when the disk could not be read (then the disk check keeps its last verdict). */
  disk?: DiskUsage;
  diskError?: string;
  storeOk: boolean;
  storeError?: string;
  /** How long the store probe took. */
  storeMs?: number;
  brokerConnected: boolean;
  /** Undefined: no uplink configured. */
  uplinkConnected?: boolean;
  hardware: readonly HardwareHealth[];
}

export interface ProblemChange {
  problem: ProblemId;
  reason: string;
  values: Readonly<Record<string, Scalar>>;
}

export interface CheckOutcome {
  started: ProblemChange[];
  ended: ProblemChange[];
}

export type CheckLimits = Pick<WatchConfig, 'interval' | 'disk' | 'clockJump' | 'brokerDown' | 'uplinkDown'>;

/** A low disk counts as recovered only past this multiple of the limits, so cleaning up a little does not flap. */
export const DISK_RECOVERY = 1.2;
/** A GPIO or serial line may take this many check intervals to open (a USB adapter enumerating). */
export const HARDWARE_GRACE_INTERVALS = 2;

/** holds: the problem is there; false: it is gone; undefined: no change (in between, or unknown). */
type Verdict = { holds: boolean; reason: string; values: Record<string, Scalar> } | undefined;

export interface ChecksOptions {
  /** The wall clock last recorded by a previous run (clock-behind). */
  lastRun?: number;
  /**
   * Problems whose incident a previous run left active: they end at the first sample that shows
   * the condition gone, instead of staying open for ever.
   */
  inherited?: Iterable<ProblemId>;
}

export class Checks {
  private readonly active = new Set<ProblemId>();
  private prev: { at: number; mono: number } | undefined;
  private brokerDownSince: number | undefined;
  private uplinkDownSince: number | undefined;
  private readonly hardwareBadSince = new Map<string, number>();
  /** While clock-behind holds: the last run's wall clock the clock must pass. */
  private behindOf: number | undefined;

  constructor(
    private readonly limits: CheckLimits,
    private readonly opts: ChecksOptions = {},
  ) {
    for (const p of opts.inherited ?? []) if (PROBLEMS[p].clear === 'auto') this.active.add(p);
  }

  /** Problems holding now, in PROBLEM_IDS order. A clock jump is an event, never one of them. */
  problems(): ProblemId[] {
    return PROBLEM_IDS.filter((p) => this.active.has(p));
  }

  check(s: Sample): CheckOutcome {
    const out: CheckOutcome = { started: [], ended: [] };
    const apply = (problem: ProblemId, v: Verdict) => {
      if (!v || v.holds === this.active.has(problem)) return;
      if (v.holds) this.active.add(problem);
      else this.active.delete(problem);
      (v.holds ? out.started : out.ended).push({ problem, reason: v.reason, values: v.values });
    };
    apply('disk-low', this.disk(s));
    apply('store-failing', this.store(s));
    const clock = this.clock(s);
    apply('clock-behind', clock.behind);
    if (clock.jump) out.started.push({ problem: 'clock-jump', ...clock.jump });
    apply('broker-down', this.broker(s));
    apply('uplink-down', this.uplink(s));
    apply('hardware-unavailable', this.hardware(s));
    this.prev = { at: s.at, mono: s.mono };
    return out;
  }

  private disk(s: Sample): Verdict {
    if (!s.disk || s.disk.totalBytes <= 0) return undefined;
    const { freeBytes, totalBytes } = s.disk;
    const { minFreeBytes, minFreePercent } = this.limits.disk;
    const percent = (freeBytes / totalBytes) * 100;
    const values = { freeBytes, totalBytes, freePercent: Math.round(percent * 10) / 10 };
    const what = `${humanBytes(freeBytes)} free of ${humanBytes(totalBytes)} (${values.freePercent} %) on the data disk`;
    const low = freeBytes < minFreeBytes || percent < minFreePercent;
    if (low) {
      const limit = `${humanBytes(minFreeBytes)} or ${minFreePercent} %`;
      return { holds: true, reason: `${what}, below the limit of ${limit}`, values };
    }
    const recovered =
      freeBytes >= minFreeBytes * DISK_RECOVERY && percent >= Math.min(100, minFreePercent * DISK_RECOVERY);
    return recovered ? { holds: false, reason: what, values } : undefined;
  }

  private store(s: Sample): Verdict {
    const values: Record<string, Scalar> = s.storeMs === undefined ? {} : { probeMs: Math.round(s.storeMs) };
    if (s.storeOk) return { holds: false, reason: 'the incident database takes writes again', values };
    const error = s.storeError ?? 'writes fail';
    return { holds: true, reason: `the incident database fails: ${error}`, values: { ...values, error } };
  }

  /**
   * clock-behind at the first sample; clock-jump between two samples. A jump while the clock is
   * behind is the clock being set (NTP synchronised at last, or somebody by hand): it ends
   * clock-behind, and is trusted, rather than reported as a jump.
   */
  private clock(s: Sample): { behind: Verdict; jump?: Omit<ProblemChange, 'problem'> } {
    const tolerance = this.limits.clockJump;
    const lastRun = this.opts.lastRun;
    if (!this.prev) {
      if (lastRun === undefined) return { behind: { holds: false, reason: 'no previous run', values: {} } };
      const values = { wallClock: s.at, lastRun };
      if (s.at >= lastRun - tolerance)
        return { behind: { holds: false, reason: `the wall clock is past the last run`, values } };
      this.behindOf = lastRun;
      const reason =
        `the wall clock (${iso(s.at)}) is ${humanMs(lastRun - s.at)} earlier than the gateway's last run ` +
        `(${iso(lastRun)}): no real-time clock and no time server yet? Event times are wrong meanwhile`;
      return { behind: { holds: true, reason, values } };
    }
    const drift = s.at - this.prev.at - (s.mono - this.prev.mono);
    const jumped = Math.abs(drift) >= this.limits.clockJump;
    const direction = drift > 0 ? 'forward' : 'back';
    if (this.behindOf !== undefined) {
      const lastRun = this.behindOf;
      const values = { wallClock: s.at, lastRun };
      if (jumped) {
        this.behindOf = undefined;
        const reason = `the clock was set ${direction} by ${humanMs(Math.abs(drift))} to ${iso(s.at)}`;
        return { behind: { holds: false, reason, values: { ...values, jumpMs: drift } } };
      }
      if (s.at < lastRun) return { behind: undefined };
      this.behindOf = undefined;
      return {
        behind: { holds: false, reason: `the wall clock passed the last run (${iso(lastRun)})`, values },
      };
    }
    if (!jumped) return { behind: undefined };
    const elapsed = s.mono - this.prev.mono;
    return {
      behind: undefined,
      jump: {
        reason:
          `the wall clock jumped ${direction} by ${humanMs(Math.abs(drift))} in ${humanMs(elapsed)} ` +
          `(${iso(this.prev.at)} -> ${iso(s.at)})`,
        values: { jumpMs: drift, from: this.prev.at, to: s.at },
      },
    };
  }

  private broker(s: Sample): Verdict {
    const since = this.brokerDownSince;
    if (s.brokerConnected) {
      this.brokerDownSince = undefined;
      const values: Record<string, Scalar> =
        since === undefined ? {} : { downMs: Math.round(s.mono - since) };
      return { holds: false, reason: 'the MQTT broker is reachable again', values };
    }
    const from = (this.brokerDownSince ??= s.mono);
    const downMs = Math.round(s.mono - from);
    if (downMs < this.limits.brokerDown) return undefined;
    return {
      holds: true,
      reason: `the MQTT broker has been unreachable for ${humanMs(downMs)}: no sensor message gets in`,
      values: { downMs },
    };
  }

  private uplink(s: Sample): Verdict {
    const since = this.uplinkDownSince;
    if (s.uplinkConnected === undefined) {
      this.uplinkDownSince = undefined;
      return { holds: false, reason: 'no uplink configured', values: {} };
    }
    if (s.uplinkConnected) {
      this.uplinkDownSince = undefined;
      const values: Record<string, Scalar> =
        since === undefined ? {} : { downMs: Math.round(s.mono - since) };
      return { holds: false, reason: 'the contact center (NATS) is reachable again', values };
    }
    const from = (this.uplinkDownSince ??= s.mono);
    const downMs = Math.round(s.mono - from);
    if (downMs < this.limits.uplinkDown) return undefined;
    return {
      holds: true,
      reason: `the contact center (NATS) has been unreachable for ${humanMs(downMs)}; incidents wait in the outbox`,
      values: { downMs },
    };
  }

  private hardware(s: Sample): Verdict {
    const names = new Set(s.hardware.map((h) => h.name));
    for (const name of this.hardwareBadSince.keys()) if (!names.has(name)) this.hardwareBadSince.delete(name);
    const failing: string[] = [];
    for (const h of s.hardware) {
      if (h.ok) {
        this.hardwareBadSince.delete(h.name);
        continue;
      }
      let since = this.hardwareBadSince.get(h.name);
      if (since === undefined) this.hardwareBadSince.set(h.name, (since = s.mono));
      if (s.mono - since >= HARDWARE_GRACE_INTERVALS * this.limits.interval)
        failing.push(h.detail ? `${h.name} (${h.detail})` : h.name);
    }
    if (failing.length > 0) {
      return {
        holds: true,
        reason: `cannot use ${failing.join(', ')}: its sensors are not read`,
        values: { unavailable: failing.join(', '), count: failing.length },
      };
    }
    if (this.hardwareBadSince.size > 0) return undefined;
    return { holds: false, reason: 'every GPIO and serial line answers again', values: {} };
  }
}

export function humanBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 || v >= 10 ? Math.round(v) : Math.round(v * 10) / 10} ${units[u]}`;
}

export function humanMs(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 1) return `${Math.round(ms)} ms`;
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
