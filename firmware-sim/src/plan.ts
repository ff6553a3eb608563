// Turns a scenario into the timeline of one loop cycle: every message each device sends, at which
// offset from the cycle start. Pure (no clock, no I/O) so the demo's story is checked by unit tests.
import { streamFor, type Random } from './random.js';
import type { Episode, Scenario, SimDevice } from './scenario.js';

export type Values = Readonly<Record<string, string | number | boolean>>;

export type PlanItem =
  | { at: number; device: string; values: Values; battery?: number }
  | { at: number; device: string; die: true };

interface Change {
  at: number;
  values: Values;
}

/** All items of cycle `cycle` (0-based), sorted by offset; nothing after a device's death. */
export function planCycle(s: Scenario, cycle = 0): PlanItem[] {
  const items: PlanItem[] = [];
  for (const d of s.devices) {
    const rnd = streamFor(s.seed, cycle, d.id);
    const episodes = s.episodes.filter((e) => e.device === d.id);
    const changes = changesFor(d, episodes, s.loop, rnd);
    items.push(...withHeartbeats(d, changes, s.loop, rnd));
    const death = episodes.find((e) => e.type === 'die');
    if (death) items.push({ at: death.at, device: d.id, die: true });
  }
  const deathAt = new Map<string, number>();
  for (const i of items) if ('die' in i) deathAt.set(i.device, i.at);
  return (
    items
      // An episode may outlast the cycle: what falls after the loop end is cut, the next cycle restarts.
      .filter((i) => i.at < s.loop && ('die' in i || i.at < (deathAt.get(i.device) ?? Infinity)))
      .sort((a, b) => a.at - b.at || Number('die' in a) - Number('die' in b))
  );
}

function changesFor(d: SimDevice, episodes: readonly Episode[], loop: number, rnd: Random): Change[] {
  switch (d.kind) {
    case 'door':
      return doorChanges(d, episodes, loop, rnd);
    case 'aed':
      return aedChanges(episodes);
    case 'appliance':
      return applianceChanges(d, episodes);
    case 'temperature':
      return temperatureReadings(d, episodes, loop, rnd);
  }
}

function doorChanges(d: SimDevice, episodes: readonly Episode[], loop: number, rnd: Random): Change[] {
  const out: Change[] = [{ at: 0, values: { open: false } }];
  const busy: Array<[number, number]> = [];
  const badge = () => d.badges[Math.floor(rnd() * d.badges.length)];
  for (const e of episodes) {
    if (e.type === 'held-open') {
      out.push({ at: e.at, values: { open: false, badge: badge() } });
      out.push({ at: e.at + 1000, values: { open: true } });
      out.push({ at: e.at + 1000 + e.for, values: { open: false } });
      busy.push([e.at, e.at + 1000 + e.for]);
    } else if (e.type === 'forced') {
      out.push({ at: e.at, values: { open: true } });
      out.push({ at: e.at + e.for, values: { open: false } });
      busy.push([e.at, e.at + e.for]);
    }
  }
  if (d.traffic !== undefined) {
    // Normal passage: a badge swipe, the door opens a second later, closes `openFor` later; never
    // overlapping an episode (with a margin so a badge swipe cannot excuse a forced door).
    const margin = 15_000;
    for (
      let t = d.traffic * (0.5 + rnd() * 0.5);
      t + d.openFor + 1000 < loop;
      t += d.traffic * (0.8 + rnd() * 0.4)
    ) {
      const start = Math.round(t);
      const end = start + 1000 + d.openFor;
      if (busy.some(([a, b]) => start < b + margin && end > a - margin)) continue;
      // A Zigbee contact sensor has no badge reader: it only reports the door moving.
      if (d.format === 'native') out.push({ at: start, values: { open: false, badge: badge() } });
      out.push({ at: start + 1000, values: { open: true } });
      out.push({ at: end, values: { open: false } });
    }
  }
  return out;
}

function aedChanges(episodes: readonly Episode[]): Change[] {
  const out: Change[] = [{ at: 0, values: { present: true, cabinetOpen: false } }];
  for (const e of episodes) {
    if (e.type !== 'aed-removed') continue;
    out.push({ at: e.at, values: { present: false, cabinetOpen: true } });
    out.push({ at: e.at + e.for, values: { present: true, cabinetOpen: false } });
  }
  return out;
}

function applianceChanges(d: SimDevice, episodes: readonly Episode[]): Change[] {
  const serial = d.serial ?? d.id;
  const out: Change[] = [{ at: 0, values: { serial, status: 'ok' } }];
  for (const e of episodes) {
    if (e.type !== 'fault') continue;
    e.codes.forEach((code, i) => {
      const at = e.at + i * e.spacing;
      out.push({ at, values: { serial, status: 'fault', code } });
      out.push({ at: at + e.clearAfter, values: { serial, status: 'ok' } });
    });
  }
  return out;
}

/** Readings every `every`: base + slow sine drift + noise, bent by HVAC-failure episodes. */
function temperatureReadings(
  d: SimDevice,
  episodes: readonly Episode[],
  loop: number,
  rnd: Random,
): Change[] {
  const out: Change[] = [];
  const normal = (t: number) =>
    d.base + d.drift * Math.sin((2 * Math.PI * t) / d.driftPeriod) + d.noise * (2 * rnd() - 1);
  for (let t = 0; t < loop; t += d.every) {
    let c = normal(t);
    for (const e of episodes) {
      if (e.type !== 'hvac-failure' || t < e.at) continue;
      const up = Math.min(1, (t - e.at) / e.ramp);
      const down = Math.max(0, Math.min(1, (t - e.at - e.for) / e.ramp));
      const level = up * (1 - down);
      if (level > 0) c = c * (1 - level) + (e.peak + d.noise * (2 * rnd() - 1)) * level;
    }
    out.push({ at: t, values: { celsius: Math.round(c * 100) / 100 } });
  }
  return out;
}

/**
 * Adds heartbeats (the current state re-sent every `every`, with the battery level when the device
 * reports one). Temperature readings already are periodic, so they carry the battery themselves.
 */
function withHeartbeats(d: SimDevice, changes: Change[], loop: number, rnd: Random): PlanItem[] {
  changes.sort((a, b) => a.at - b.at);
  const items: PlanItem[] = changes.map((c) => ({ at: c.at, device: d.id, values: c.values }));
  if (d.kind === 'temperature') {
    return d.battery === undefined ? items : items.map((i) => ({ ...i, battery: d.battery }));
  }
  let idx = 0;
  let current: Values = changes[0].values;
  for (let t = Math.round(d.every * (0.3 + 0.7 * rnd())); t < loop; t += d.every) {
    while (idx < changes.length && changes[idx].at <= t) current = changes[idx++].values;
    const { badge: _badge, ...state } = current;
    items.push({
      at: t,
      device: d.id,
      values: state,
      ...(d.battery === undefined ? {} : { battery: d.battery }),
    });
  }
  return items;
}
