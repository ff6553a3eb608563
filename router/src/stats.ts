/** count, mean, p50, p90 of durations, in seconds; null when there is no sample yet. */
export interface DurationSummary {
  count: number;
  meanSec: number | null;
  p50Sec: number | null;
  p90Sec: number | null;
}

/**
 * Durations with an exact count and mean, and percentiles over the most recent `window` samples, so
 * a router that runs for months keeps a bounded memory and its percentiles describe the present.
 */
export class Durations {
  private count = 0;
  private sumMs = 0;
  private readonly recent: number[] = [];
  private next = 0;

  constructor(private readonly window = 10_000) {}

  add(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.count++;
    this.sumMs += ms;
    if (this.recent.length < this.window) this.recent.push(ms);
    else {
      this.recent[this.next] = ms;
      this.next = (this.next + 1) % this.window;
    }
  }

  summary(): DurationSummary {
    if (this.count === 0) return { count: 0, meanSec: null, p50Sec: null, p90Sec: null };
    const sorted = [...this.recent].sort((a, b) => a - b);
    return {
      count: this.count,
      meanSec: round(this.sumMs / this.count / 1000),
      p50Sec: round(percentile(sorted, 0.5) / 1000),
      p90Sec: round(percentile(sorted, 0.9) / 1000),
    };
  }
}

/** Nearest rank: the smallest sample with at least `q` of the samples at or below it. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
