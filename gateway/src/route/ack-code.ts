// Acknowledgement codes: four digits, easy to read out and to type on a phone, unique among the
// incidents still active so "ACK 4821" can only mean one of them. When thousands are active at
// once (a storm, a benchmark) four digits run short: a few misses move on to five, then six
// digits, so an opening never costs more than a handful of lookups.

const TRIES_PER_LENGTH = 8;

export function newAckCode(taken: (code: string) => boolean, random: () => number = Math.random): string {
  for (let digits = 4; ; digits++) {
    const low = 10 ** (digits - 1);
    for (let tries = 0; tries < TRIES_PER_LENGTH; tries++) {
      const code = String(low + Math.floor(random() * 9 * low));
      if (!taken(code) || digits >= 9) return code;
    }
  }
}
