import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, type FileProblem } from '../core/errors.js';

/** Where a config path (`['channels', 'sms', 'from']`) is in the file; 0 when unknown. */
export type LineOf = (path: readonly PropertyKey[]) => number;

/**
 * Reads a YAML configuration file, keeping where each value was written, so that every problem
 * (syntax here, schema later) is reported with its line. Shared by the gateway and the router.
 */
export function readYamlConfig(file: string): { raw: Record<string, unknown>; lineOf: LineOf } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('VIGIE_ERR_CONFIG_INVALID', [
      { file, line: 0, message: `cannot read the configuration file: ${(err as Error).message}` },
    ]);
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      'VIGIE_ERR_CONFIG_INVALID',
      doc.errors.map((e) => ({ file, line: lc.linePos(e.pos[0]).line, message: e.message.split('\n')[0] })),
    );
  }
  return {
    raw: (doc.toJS() as Record<string, unknown>) ?? {},
    lineOf: (path) => {
      const node = doc.getIn(path as unknown[], true) as { range?: [number, number] } | undefined;
      return node?.range ? lc.linePos(node.range[0]).line : 0;
    },
  };
}

/** Schema issues as file problems, in line order; an unknown key is named with its full path. */
export function schemaProblems(
  issues: readonly z.core.$ZodIssue[],
  file: string,
  lineOf: LineOf,
): FileProblem[] {
  const problems: FileProblem[] = issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({
          file,
          line: lineOf([...i.path, k]),
          message: `${[...i.path, k].join('.')}: unknown key`,
        }))
      : [{ file, line: lineOf(i.path), message: `${i.path.join('.') || '(root)'}: ${i.message}` }],
  );
  return problems.sort((a, b) => a.line - b.line);
}

export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
