// Plays planned cycles against a clock: one timer at a time, set for the next due item, so a manual
// clock and manual timers drive it in tests exactly as the real ones do in the simulator.
import type { Clock } from '../../rules/src/model.js';
import type { PlanItem } from './plan.js';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface PlayerOptions {
  clock: Clock;
  timers: Timers;
  cycleMs: number;
  planCycle(cycle: number): PlanItem[];
  /** Called for each item when due; `cycle` lets the caller revive dead devices on a new loop. */
  onItem(item: PlanItem, cycle: number): void;
  onCycle?(cycle: number): void;
  /** Stop after this many ms from start (the CLI's --duration). */
  durationMs?: number;
}

export interface Player {
  stop(): void;
}

export function startPlayer(o: PlayerOptions): Player {
  const start = o.clock.now();
  let cycle = 0;
  let items = o.planCycle(0);
  let next = 0;
  let handle: unknown;
  let stopped = false;
  o.onCycle?.(0);

  const tick = () => {
    handle = undefined;
    if (stopped) return;
    const now = o.clock.now();
    if (o.durationMs !== undefined && now - start >= o.durationMs) return;
    // Catch up with everything due (a busy event loop must not shift the story, only delay it).
    for (;;) {
      const cycleStart = start + cycle * o.cycleMs;
      if (next < items.length && cycleStart + items[next].at <= now) {
        o.onItem(items[next++], cycle);
        if (stopped) return;
        continue;
      }
      if (next >= items.length && cycleStart + o.cycleMs <= now) {
        cycle += 1;
        items = o.planCycle(cycle);
        next = 0;
        o.onCycle?.(cycle);
        continue;
      }
      break;
    }
    const cycleStart = start + cycle * o.cycleMs;
    let due = next < items.length ? cycleStart + items[next].at : cycleStart + o.cycleMs;
    if (o.durationMs !== undefined) due = Math.min(due, start + o.durationMs);
    handle = o.timers.setTimeout(tick, Math.max(0, due - now));
  };
  tick();
  return {
    stop() {
      stopped = true;
      if (handle !== undefined) o.timers.clearTimeout(handle);
      handle = undefined;
    },
  };
}
