import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLE_RULES } from './gateway-process.js';

// Node-RED flows in tests: the shipped example flows, and a core `file` node that lets a test read
// what a flow emitted (one JSON line per message) without an editor.

export type FlowNode = Record<string, unknown> & { id: string; type: string; wires?: string[][] };

export const EXAMPLE_FLOWS = join(EXAMPLE_RULES, '../node-red/examples');

export function exampleFlow(file: string): FlowNode[] {
  return JSON.parse(readFileSync(join(EXAMPLE_FLOWS, file), 'utf8')) as FlowNode[];
}

/** Node-RED's own file node appending each msg.payload (JSON for objects) as a line of `filename`. */
export function fileNode(id: string, tab: string, filename: string, y = 600): FlowNode {
  return {
    id,
    type: 'file',
    z: tab,
    name: id,
    filename,
    filenameType: 'str',
    appendNewline: true,
    createDir: true,
    overwriteFile: 'false',
    encoding: 'none',
    x: 700,
    y,
    wires: [[]],
  };
}

/** The JSON lines a file node wrote so far ([] before the first). */
export function jsonLines(file: string): any[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}
