import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import type { FileProblem } from '../../../rules/src/model.js';

export interface RuleFile {
  file: string;
  text: string;
}

/**
 * Reads every rule file of a directory: `*.yaml` / `*.yml`, except the site file (the examples
 * folder keeps the site beside its rules) and rule test files (`*.test.yaml`).
 */
export async function readRuleFiles(
  dir: string,
  exclude: readonly string[] = [],
): Promise<{ files: RuleFile[]; problems: FileProblem[] }> {
  const skip = new Set(exclude.map((p) => resolve(p)));
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    return {
      files: [],
      problems: [
        { file: dir, line: 0, message: `cannot read the rules directory: ${(err as Error).message}` },
      ],
    };
  }
  const files: RuleFile[] = [];
  const problems: FileProblem[] = [];
  for (const name of names.sort()) {
    const ext = extname(name);
    if ((ext !== '.yaml' && ext !== '.yml') || name.endsWith(`.test${ext}`)) continue;
    const file = join(dir, name);
    if (skip.has(resolve(file))) continue;
    try {
      files.push({ file, text: await readFile(file, 'utf8') });
    } catch (err) {
      problems.push({ file, line: 0, message: `cannot read: ${(err as Error).message}` });
    }
  }
  return { files, problems };
}

/**
 * Calls `onChange` once a burst of file events has settled: editors write a file in several steps
 * (truncate, write, rename), and reloading on the first event would read half a file.
 */
export function watchRuleDir(dir: string, onChange: () => void, settleMs = 250): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { persistent: false }, () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(onChange, settleMs);
    });
    // A watcher error (directory removed, too many watches) must not take the gateway down;
    // SIGHUP still reloads.
    watcher.on('error', () => undefined);
  } catch {
    watcher = undefined;
  }
  return {
    close() {
      if (timer) clearTimeout(timer);
      watcher?.close();
    },
  };
}
