// Latency statistics for the measuring subscriber. Samples go into a growing Float64Array (no
// per-sample object) so a million latencies cost 8 MB and sorting them stays fast.

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array (p in 0..100); NaN for an empty array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const rank = Math.ceil((p / 100) * n);
  return sorted[Math.min(n - 1, Math.max(0, rank - 1))];
}

export class Samples {
  private data = new Float64Array(1 << 16);
  private n = 0;

  add(v: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.n++] = v;
  }

  get length(): number {
    return this.n;
  }

  summary(): LatencySummary {
    const sorted = this.data.slice(0, this.n).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    return {
      count: this.n,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: this.n > 0 ? sorted[this.n - 1] : NaN,
      mean: this.n > 0 ? sum / this.n : NaN,
    };
  }
}

/**
 * Backlog check: a system that keeps up has flat latency; one that falls behind shows latency
 * climbing through the run. Compares the median of the last second with the first measured one.
 */
/**
 * Past this, events are queued somewhere rather than handled as they come: for alerting, a system
 * whose p99 is a tenth of a second behind is not keeping up, whatever its throughput.
 */
export const BACKLOG_P99_MS = 100;

export function backlogGrowing(perSecondP50: readonly number[]): boolean {
  const xs = perSecondP50.filter((v) => Number.isFinite(v));
  if (xs.length < 3) return false;
  const first = xs[0];
  const last = xs[xs.length - 1];
  return last > 50 && last > 2 * Math.max(first, 1);
}

/** The numeric value of a top-level-looking `"name":123.4` in JSON text, else undefined. */
export function numberField(text: string, name: string): number | undefined {
  const key = `"${name}":`;
  const i = text.indexOf(key);
  if (i < 0) return undefined;
  const v = Number.parseFloat(text.slice(i + key.length, i + key.length + 32).trimStart());
  return Number.isFinite(v) ? v : undefined;
}
