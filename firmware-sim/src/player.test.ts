import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../gateway/src/core/clock.js';
import type { PlanItem } from './plan.js';
import { startPlayer, type Timers } from './player.js';

/** Timers driven by a manual clock: advance() fires what falls due, in order. */
class ManualTimers implements Timers {
  private pending: Array<{ due: number; fn: () => void; id: number }> = [];
  private seq = 0;
  constructor(private clock: ManualClock) {}
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.push({ due: this.clock.now() + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== h);
  }
  advance(ms: number): void {
    const end = this.clock.now() + ms;
    for (;;) {
      this.pending.sort((a, b) => a.due - b.due);
      const next = this.pending[0];
      if (!next || next.due > end) break;
      this.pending.shift();
      this.clock.set(Math.max(this.clock.now(), next.due));
      next.fn();
    }
    this.clock.set(end);
  }
  get size(): number {
    return this.pending.length;
  }
}

const cycleItems: PlanItem[] = [
  { at: 0, device: 'a', values: { open: false } },
  { at: 3000, device: 'a', values: { open: true } },
  { at: 5000, device: 'b', die: true },
  { at: 9000, device: 'a', values: { open: false } },
];

function setup(durationMs?: number) {
  const clock = new ManualClock(1_000_000);
  const timers = new ManualTimers(clock);
  const seen: Array<{ t: number; device: string; cycle: number; die: boolean }> = [];
  const cycles: number[] = [];
  const player = startPlayer({
    clock,
    timers,
    cycleMs: 10_000,
    durationMs,
    planCycle: () => cycleItems,
    onCycle: (c) => cycles.push(c),
    onItem: (item, cycle) =>
      seen.push({ t: clock.now() - 1_000_000, device: item.device, cycle, die: 'die' in item }),
  });
  return { clock, timers, seen, cycles, player };
}

test('player - items fire at their offsets, not before', () => {
  const { timers, seen } = setup();
  assert.deepEqual(
    seen.map((s) => s.t),
    [0],
  );
  timers.advance(2999);
  assert.equal(seen.length, 1);
  timers.advance(1);
  assert.deepEqual(
    seen.map((s) => s.t),
    [0, 3000],
  );
  timers.advance(6000);
  assert.deepEqual(
    seen.map((s) => [s.t, s.device, s.die]),
    [
      [0, 'a', false],
      [3000, 'a', false],
      [5000, 'b', true],
      [9000, 'a', false],
    ],
  );
});

test('player - the scenario loops: cycle 1 replays at +10 s', () => {
  const { timers, seen, cycles } = setup();
  timers.advance(13_000);
  assert.deepEqual(cycles, [0, 1]);
  assert.deepEqual(
    seen.filter((s) => s.cycle === 1).map((s) => s.t),
    [10_000, 13_000],
  );
});

test('player - a late timer catches up on everything due, in order', () => {
  const { clock, timers, seen } = setup();
  clock.advance(9500); // the event loop was blocked: the pending timer fires late
  timers.advance(0);
  assert.deepEqual(
    seen.map((s) => s.t),
    [0, 9500, 9500, 9500],
  );
  assert.deepEqual(
    seen.map((s) => s.device),
    ['a', 'a', 'b', 'a'],
  );
});

test('player - stop() cancels the pending timer and duration ends the run', () => {
  const a = setup();
  a.player.stop();
  assert.equal(a.timers.size, 0);
  a.timers.advance(60_000);
  assert.equal(a.seen.length, 1);
  const b = setup(4000);
  b.timers.advance(60_000);
  assert.deepEqual(
    b.seen.map((s) => s.t),
    [0, 3000],
  );
  assert.equal(b.timers.size, 0);
});
