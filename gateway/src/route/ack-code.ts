// Acknowledgement codes: four digits, easy to read out and to type on a phone, unique among the
// incidents still active so "ACK 4821" can only mean one of them.

export function newAckCode(taken: (code: string) => boolean, random: () => number = Math.random): string {
  for (let tries = 0; tries < 50; tries++) {
    const code = String(1000 + Math.floor(random() * 9000));
    if (!taken(code)) return code;
  }
  // 9,000 codes; fifty misses in a row means thousands of active incidents: widen rather than fail.
  for (let tries = 0; ; tries++) {
    const code = String(10000 + Math.floor(random() * 90000));
    if (!taken(code) || tries > 1000) return code;
  }
}
