/** A small seeded generator (mulberry32) so a scenario replays the same noise for the same seed. */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic per-(seed, cycle, device) stream: devices do not disturb each other's noise. */
export function streamFor(seed: number, cycle: number, key: string): Random {
  let h = (seed ^ Math.imul(cycle + 1, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return seededRandom(h);
}
