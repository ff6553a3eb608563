import { formatDuration } from './duration.js';
import type { Scalar } from './model.js';
import type { Cond, EvalCtx } from './runtime.js';
import type { ConditionSpec } from './spec.js';

// ConditionSpec -> closures. Stateful nodes own a slot in the key's sub-state array; every child of
// all/any/not is evaluated (no short-circuit) so latches and count windows see every message.

export interface Resolved {
  schedule(
    line: number,
    name: string | undefined,
    spec: ConditionSpec & { type: 'schedule' },
  ): (t: number) => boolean;
  badges(spec: ConditionSpec & { type: 'badge' }): ReadonlySet<string>;
}

export interface Built {
  root: Cond;
  slots: ('latch' | 'window')[];
  timeDriven: boolean;
}

const show = (v: Scalar | undefined): string => (typeof v === 'string' ? v : String(v));

export function buildCondition(spec: ConditionSpec, res: Resolved): Built {
  const slots: ('latch' | 'window')[] = [];
  let timeDriven = false;

  const build = (c: ConditionSpec, stateless: boolean): Cond => {
    switch (c.type) {
      case 'state': {
        const entries = Object.entries(c.fields);
        const text = entries.map(([f, vs]) => `${f} = ${vs.map(show).join(' or ')}`).join(', ');
        return {
          text,
          test(ctx) {
            const values = ctx.dev.values;
            for (let i = 0; i < entries.length; i++) {
              const entry = entries[i];
              if (!entry[1].includes(values[entry[0]] ?? null)) return false;
            }
            return true;
          },
          reason: (ctx) => entries.map(([f]) => `${f} = ${show(ctx.dev.values[f])}`).join(', '),
        };
      }
      case 'threshold':
        return stateless ? plainThreshold(c) : latchedThreshold(c, slots.push('latch') - 1);
      case 'absent': {
        timeDriven = true;
        const fixed = c.ms;
        const text = `no message for ${c.heartbeat ? 'the heartbeat' : formatDuration(fixed ?? 0)}`;
        const limit = (ctx: EvalCtx) => (c.heartbeat ? ctx.dev.info.heartbeatMs : fixed);
        return {
          text,
          test(ctx) {
            const ms = limit(ctx);
            if (ms === undefined) return false;
            const due = ctx.dev.absBase + ms;
            if (ctx.t >= due) return true;
            if (due < ctx.next) ctx.next = due;
            return false;
          },
          reason: (ctx) => `no message for ${formatDuration(limit(ctx) ?? 0)}`,
          negReason: () => 'messages arriving',
        };
      }
      case 'status':
        return {
          text: `status ${c.status}`,
          test: (ctx) => ctx.dev.status === c.status,
          reason: () => `status ${c.status}`,
          negReason: () => `status not ${c.status}`,
        };
      case 'schedule': {
        const inside = res.schedule(c.line, c.name, c);
        const label = c.name ?? 'the schedule';
        return {
          text: `inside ${label}`,
          test: (ctx) => inside(ctx.t),
          reason: () => `inside ${label}`,
          negReason: () => `outside ${label}`,
        };
      }
      case 'badge': {
        const allow = res.badges(c);
        const { before, withinMs } = c;
        const what = before === 'open' ? 'opened' : `${before} became true`;
        return {
          text: `an allowed badge within ${formatDuration(withinMs)} before ${before}`,
          test(ctx) {
            const rise = ctx.dev.rise[before];
            if (rise === undefined) return false;
            const badges = ctx.dev.badges;
            for (let i = badges.length - 1; i >= 0; i--) {
              const b = badges[i];
              if (b.ts <= rise && b.ts >= rise - withinMs && allow.has(b.id)) return true;
            }
            return false;
          },
          reason: () => `${what} with an allowed badge`,
          negReason: () => `${what} without an allowed badge within ${formatDuration(withinMs)}`,
        };
      }
      case 'count': {
        const where = build(c.where, true);
        const slot = slots.push('window') - 1;
        const { atLeast, withinMs } = c;
        const text = `${atLeast} messages with ${where.text} within ${formatDuration(withinMs)}`;
        return {
          text,
          test(ctx) {
            const times = ctx.sub[slot] as number[];
            if (ctx.data && where.test(ctx)) {
              times.push(ctx.t);
              // Only the newest atLeast matter (when the condition turns false again): a flooding
              // device must not grow the state written to the store with every message.
              if (times.length > atLeast) times.splice(0, times.length - atLeast);
              ctx.changed = true;
            }
            const cutoff = ctx.t - withinMs;
            let drop = 0;
            while (drop < times.length && times[drop] <= cutoff) drop++;
            if (drop > 0) {
              times.splice(0, drop);
              ctx.changed = true;
            }
            if (times.length < atLeast) return false;
            // The result changes back when the atLeast-th newest message leaves the window.
            const expires = times[times.length - atLeast] + withinMs;
            if (expires < ctx.next) ctx.next = expires;
            return true;
          },
          reason: (ctx) =>
            `${(ctx.sub[slot] as number[]).length} messages with ${where.text} within ${formatDuration(withinMs)}`,
        };
      }
      case 'all':
      case 'any': {
        const kids = c.children.map((k) => build(k, stateless));
        const results = new Array<boolean>(kids.length).fill(false);
        const all = c.type === 'all';
        return {
          text: kids.map((k) => k.text).join(all ? ' and ' : ' or '),
          test(ctx) {
            let ok = all;
            for (let i = 0; i < kids.length; i++) {
              const r = kids[i].test(ctx);
              results[i] = r;
              if (all ? !r : r) ok = !all;
            }
            return ok;
          },
          // Called right after test() on the same key: `results` still describes it.
          reason(ctx) {
            const parts: string[] = [];
            for (let i = 0; i < kids.length; i++) if (results[i]) parts.push(kids[i].reason(ctx));
            return all ? parts.join(', ') : (parts[0] ?? '');
          },
          negReason(ctx) {
            const parts: string[] = [];
            for (let i = 0; i < kids.length; i++) if (!results[i]) parts.push(neg(kids[i], ctx));
            return all ? (parts[0] ?? '') : parts.join(', ');
          },
        };
      }
      case 'not': {
        const child = build(c.child, stateless);
        return {
          text: `not (${child.text})`,
          test: (ctx) => !child.test(ctx),
          reason: (ctx) => neg(child, ctx),
          negReason: (ctx) => child.reason(ctx),
        };
      }
    }
  };

  const root = build(spec, false);
  return { root, slots, timeDriven };
}

function neg(c: Cond, ctx: EvalCtx): string {
  return c.negReason ? c.negReason(ctx) : `not (${c.text})`;
}

type ThresholdSpec = ConditionSpec & { type: 'threshold' };

function plainThreshold(c: ThresholdSpec): Cond {
  const { field, above, below } = c;
  const side = (v: Scalar | undefined): 0 | 1 | 2 => {
    if (typeof v !== 'number') return 0;
    if (above !== undefined && v > above) return 1;
    if (below !== undefined && v < below) return 2;
    return 0;
  };
  return {
    text: thresholdText(c),
    test: (ctx) => side(ctx.dev.values[field]) !== 0,
    reason: (ctx) => describeSide(c, ctx.dev.values[field], side(ctx.dev.values[field])),
  };
}

function latchedThreshold(c: ThresholdSpec, slot: number): Cond {
  const { field, above, below, hysteresis } = c;
  return {
    text: thresholdText(c),
    test(ctx) {
      const v = ctx.dev.values[field];
      const before = ctx.sub[slot] as number;
      let s = before;
      if (typeof v !== 'number') s = 0;
      else {
        // Once over the line, stay over until clearly back (above - hysteresis / below + hysteresis).
        if (s === 1 && !(v > above! - hysteresis)) s = 0;
        else if (s === 2 && !(v < below! + hysteresis)) s = 0;
        if (s === 0) {
          if (above !== undefined && v > above) s = 1;
          else if (below !== undefined && v < below) s = 2;
        }
      }
      if (s !== before) {
        ctx.sub[slot] = s;
        ctx.changed = true;
      }
      return s !== 0;
    },
    reason: (ctx) => describeSide(c, ctx.dev.values[field], ctx.sub[slot] as number),
    negReason: (ctx) => `${field} ${show(ctx.dev.values[field])} within range`,
  };
}

function thresholdText(c: ThresholdSpec): string {
  const parts: string[] = [];
  if (c.above !== undefined) parts.push(`${c.field} above ${c.above}`);
  if (c.below !== undefined) parts.push(`${c.field} below ${c.below}`);
  return parts.join(' or ');
}

function describeSide(c: ThresholdSpec, v: Scalar | undefined, side: number): string {
  if (side === 1) return `${c.field} ${show(v)} above ${c.above}`;
  if (side === 2) return `${c.field} ${show(v)} below ${c.below}`;
  return `${c.field} ${show(v)}`;
}
