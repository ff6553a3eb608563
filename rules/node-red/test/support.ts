import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled to DIST/rules/node-red/test: the repository (or a helper's build dir) is 4 levels up,
// and the node package is used from its source folder (plain CommonJS, no build step).
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const PKG = join(ROOT, 'rules', 'node-red');

/** Polls until `check` returns a value that is not undefined/false, or fails after `ms`. */
export async function waitFor<T>(check: () => T | undefined | false, what: string, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
