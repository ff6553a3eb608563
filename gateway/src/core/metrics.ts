// A small Prometheus registry. Hand-written because the hot path (one counter bump per event) must
// cost a property increment, not a label-hash lookup: callers bind label values once with `labels()`.
// Text format: https://prometheus.io/docs/instrumenting/exposition_formats/

type LabelValues = Readonly<Record<string, string>>;

function labelKey(labels: LabelValues): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return '{' + keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(',') + '}';
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  private readonly series = new Map<string, { value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  /** A bound child: keep it and call `.inc()` on the hot path. */
  labels(labels: LabelValues = {}): { inc(n?: number): void; readonly value: number } {
    const key = labelKey(labels);
    let cell = this.series.get(key);
    if (!cell) {
      cell = { value: 0 };
      this.series.set(key, cell);
    }
    const c = cell;
    return {
      inc: (n = 1) => {
        c.value += n;
      },
      get value() {
        return c.value;
      },
    };
  }
  inc(labels: LabelValues = {}, n = 1): void {
    this.labels(labels).inc(n);
  }
  get(labels: LabelValues = {}): number {
    return this.series.get(labelKey(labels))?.value ?? 0;
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n`;
    for (const [k, c] of this.series) out += `${this.name}${k} ${c.value}\n`;
    return out;
  }
}

/** A gauge whose values are read when scraped (incidents by state, queue depths...). */
export class Gauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect: () => ReadonlyArray<[LabelValues, number]>,
  ) {}
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} gauge\n`;
    for (const [labels, v] of this.collect()) out += `${this.name}${labelKey(labels)} ${v}\n`;
    return out;
  }
}

export class Histogram implements Metric {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    /** Upper bounds, ascending, in the metric's unit (seconds for durations). */
    readonly buckets: readonly number[],
  ) {
    this.counts = new Array(buckets.length).fill(0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) {
      if (v <= this.buckets[i]) {
        this.counts[i]++;
        return;
      }
    }
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    let cumulative = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      cumulative += this.counts[i];
      out += `${this.name}_bucket{le="${this.buckets[i]}"} ${cumulative}\n`;
    }
    out += `${this.name}_bucket{le="+Inf"} ${this.count}\n${this.name}_sum ${this.sum}\n${this.name}_count ${this.count}\n`;
    return out;
  }
}

export class Registry {
  private readonly metrics = new Map<string, Metric>();
  counter(name: string, help: string): Counter {
    return this.add(name, new Counter(name, help));
  }
  gauge(name: string, help: string, collect: () => ReadonlyArray<[LabelValues, number]>): Gauge {
    return this.add(name, new Gauge(name, help, collect));
  }
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.add(name, new Histogram(name, help, buckets));
  }
  render(): string {
    let out = '';
    for (const m of this.metrics.values()) out += m.render();
    return out;
  }
  private add<T extends Metric>(name: string, m: T): T {
    const existing = this.metrics.get(name);
    if (existing) return existing as T;
    this.metrics.set(name, m);
    return m;
  }
}
