import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordedItem, ReplayLine, ReplayResult } from './model.js';
import { emptyRead, readRecording } from './recording.js';
import type { Workbench } from './setup.js';
import { Simulation } from './simulation.js';

export interface ReplayOptions {
  /** undefined or 0: as fast as possible; N: N x real time. */
  speed?: number;
  /** Give the event loop a turn this often (replays run inside the gateway's API). */
  yieldEveryMs?: number;
  /** Called as things happen, for printing at N x. */
  onChange?: (line: ReplayLine) => void;
}

export interface ReplayMeta {
  /** The recording's site, checked against the workbench's. */
  site?: string;
  /** Virtual start (the recording's startedAt). */
  startedAt: number;
  /** Virtual end: the clock runs to it, so `for` windows and escalations due before it fire. */
  end?: number;
  /** Device kinds the recording knew, checked against the site file. */
  kinds?: ReadonlyMap<string, string>;
}

/** How often (in items) the wall clock is looked at for yieldEveryMs. */
const YIELD_CHECK = 256;

/** Replays items (in time order) through the workbench's rules; sends nothing. */
export async function replayItems(
  wb: Workbench,
  items: AsyncIterable<RecordedItem> | Iterable<RecordedItem>,
  meta: ReplayMeta,
  opts: ReplayOptions = {},
): Promise<ReplayResult> {
  return run(wb, items, () => meta, opts);
}

/** Reads a recording file (or stream) and replays it, inside [from, to) when given. */
export async function replayFile(
  wb: Workbench,
  input: string | Readable,
  opts: ReplayOptions & { from?: number; to?: number } = {},
): Promise<ReplayResult> {
  const read = emptyRead();
  const window = {
    ...(opts.from !== undefined ? { from: opts.from } : {}),
    ...(opts.to !== undefined ? { to: opts.to } : {}),
  };
  // Asked when the first item is read (the header is line 1), and again at the end (the end line).
  const meta = (seen: Seen): ReplayMeta => {
    const m: ReplayMeta = {
      startedAt: startOf(opts.from, read.header?.startedAt, seen.first),
      kinds: read.kinds,
    };
    if (read.header) m.site = read.header.site;
    const end = opts.to ?? read.end?.stoppedAt ?? seen.last;
    if (end !== undefined) m.end = end;
    return m;
  };
  const result = await run(wb, readRecording(input, read, window), meta, opts);
  result.skipped += read.bad;
  result.problems.push(...read.problems);
  if (read.bad > read.problems.length)
    result.problems.push(`... ${read.bad - read.problems.length} more bad line(s)`);
  if (!read.header) result.problems.unshift('the recording has no header line (not a vigie recording?)');
  return result;
}

/** Times of the first and last items read so far. */
interface Seen {
  first?: number;
  last?: number;
}

/** The window's start, but never before the recording's: nothing was recorded then. */
function startOf(
  from: number | undefined,
  startedAt: number | undefined,
  firstAt: number | undefined,
): number {
  const recorded = startedAt ?? firstAt;
  if (from === undefined) return recorded ?? 0;
  return recorded === undefined ? from : Math.max(from, recorded);
}

function timeOf(item: RecordedItem): number {
  return item.type === 'event' ? item.receivedAt : item.at;
}

/**
 * The replay loop. The simulation starts at the first item, once `metaOf` can say where the
 * recording starts; `metaOf` is asked again at the end, when a file's end is known.
 */
async function run(
  wb: Workbench,
  items: AsyncIterable<RecordedItem> | Iterable<RecordedItem>,
  metaOf: (seen: Seen) => ReplayMeta,
  opts: ReplayOptions,
): Promise<ReplayResult> {
  const wall0 = performance.now();
  const seen: Seen = {};
  let sim: Simulation | undefined;
  let startedAt = 0;
  let pace: ReturnType<typeof pacer>;
  let lastYield = wall0;
  let n = 0;
  const begin = (): Simulation => {
    startedAt = metaOf(seen).startedAt;
    pace = pacer(startedAt, opts.speed);
    return new Simulation(wb, { start: startedAt, ...(opts.onChange ? { onChange: opts.onChange } : {}) });
  };
  /** One item; a promise only when something has to be waited for (pacing, a delivery, a yield). */
  const step = (item: RecordedItem): Promise<void> | undefined => {
    const at = timeOf(item);
    seen.last = at;
    if (!sim) {
      seen.first = at;
      sim = begin();
    }
    const s = sim;
    if (pace) return pace(s, at).then(() => feed(s, item));
    const waiting = feed(s, item);
    if (waiting || opts.yieldEveryMs === undefined || (++n & (YIELD_CHECK - 1)) !== 0) return waiting;
    if (performance.now() - lastYield < opts.yieldEveryMs) return undefined;
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      lastYield = performance.now();
    });
  };
  try {
    // An array is walked without `for await`, which would cost a promise per item.
    if (Symbol.iterator in items) {
      for (const item of items) {
        const waiting = step(item);
        if (waiting) await waiting;
      }
    } else {
      for await (const item of items) {
        const waiting = step(item);
        if (waiting) await waiting;
      }
    }
    sim ??= begin();
    const meta = metaOf(seen);
    const end = Math.max(meta.end ?? sim.clock.now(), sim.clock.now());
    if (pace) await pace(sim, end);
    await sim.advanceTo(end);
    const result = sim.result({ from: startedAt, to: end, wallMs: 0 });
    result.problems.unshift(...metaProblems(wb, meta));
    // Reading the database back is part of the replay's time.
    result.wallMs = Math.round((performance.now() - wall0) * 10) / 10;
    return result;
  } finally {
    sim?.close();
  }
}

function feed(sim: Simulation, item: RecordedItem): Promise<void> | undefined {
  return item.type === 'event' ? sim.event(item) : sim.action(item);
}

function metaProblems(wb: Workbench, meta: ReplayMeta): string[] {
  const out: string[] = [];
  if (meta.site !== undefined && meta.site !== wb.site.id)
    out.push(`recorded at site "${meta.site}", replayed with the rules of site "${wb.site.id}"`);
  const differ: string[] = [];
  for (const d of wb.site.devices) {
    const kind = meta.kinds?.get(d.id);
    if (kind !== undefined && kind !== d.kind) differ.push(`${d.id} (${kind} -> ${d.kind})`);
  }
  if (differ.length > 0)
    out.push(
      `${differ.length} device(s) changed kind since the recording (the site file's kind is used): ${differ.slice(0, 10).join(', ')}`,
    );
  return out;
}

/**
 * At N x real time: before each item (and the end), waits until the wall clock catches up with
 * it, firing what falls due in between at its own moment so a watcher sees it happen.
 */
function pacer(
  start: number,
  speed: number | undefined,
): ((sim: Simulation, t: number) => Promise<void>) | undefined {
  if (!speed || speed <= 0) return undefined;
  const wall0 = performance.now();
  const wait = async (t: number) => {
    const ms = wall0 + (t - start) / speed - performance.now();
    if (ms >= 1) await sleep(ms);
  };
  return async (sim, t) => {
    let before = -Infinity;
    for (let due = sim.nextDue(); due !== undefined && due < t; due = sim.nextDue()) {
      // Work that stays due is the simulation's to give up on, not a reason to loop here.
      if (due <= before) break;
      before = due;
      await wait(due);
      await sim.advanceTo(due);
    }
    await wait(t);
  };
}
