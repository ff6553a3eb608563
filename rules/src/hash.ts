// A stable, dependency-free 53-bit string hash (cyrb53): enough to tell whether a rule changed
// between two reloads; not a security primitive.
export function hashText(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

/** Hash of a value's JSON, ignoring where it was written (file, line): moving a rule is no change. */
export function hashValue(value: unknown): string {
  return hashText(JSON.stringify(value, (k, v: unknown) => (k === 'line' || k === 'file' ? undefined : v)));
}
