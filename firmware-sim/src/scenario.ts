// The scenario file: which devices exist, how each behaves day to day, and the episodes (relative
// times in a loop) that make the demo tell a story. Parsed once, validated with every problem listed.
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../../rules/src/duration.js';
import { ConfigError, type FileProblem } from '../../gateway/src/core/errors.js';

const toMs = (s: string, ctx: z.RefinementCtx): number => {
  const ms = parseDuration(s);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is not a duration (use 500ms, 30s, 5m)` });
    return z.NEVER;
  }
  return ms;
};
const duration = z.string().transform(toMs);
const positive = (dflt: string) =>
  z
    .string()
    .default(dflt)
    .transform(toMs)
    .refine((ms) => ms > 0, 'must be longer than 0');
const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'letters, digits, - and _ only');

const deviceSchema = z
  .object({
    id,
    kind: z.enum(['door', 'temperature', 'aed', 'appliance']),
    /** Heartbeat: the current state is re-sent this often. */
    every: positive('1m'),
    /** Percent; when set, heartbeats carry it (Zigbee payloads always do). */
    battery: z.number().min(0).max(100).optional(),
    password: z.string().optional(),
    /** Publish through a bridge client (e.g. z2m-bridge) instead of the device's own connection. */
    via: z.string().optional(),
    topic: z.string().optional(),
    format: z.enum(['native', 'zigbee2mqtt']).default('native'),
    // door
    traffic: duration.optional(),
    openFor: positive('4s'),
    badges: z.array(z.string()).default(['A1234']),
    // temperature
    base: z.number().default(21.5),
    noise: z.number().min(0).default(0.1),
    drift: z.number().min(0).default(0.5),
    driftPeriod: positive('20m'),
    humidity: z.number().min(0).max(100).default(40),
    // appliance
    serial: z.string().optional(),
  })
  .strict()
  .refine((d) => d.format === 'native' || (d.via !== undefined && d.topic !== undefined), {
    message: 'a zigbee2mqtt device needs `via` (the bridge client) and `topic`',
  })
  .refine((d) => d.kind !== 'appliance' || d.serial !== undefined, {
    message: 'an appliance needs a `serial`',
  });

const episodeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('held-open'), at: duration, device: id, for: positive('60s') }).strict(),
  z.object({ type: z.literal('forced'), at: duration, device: id, for: positive('10s') }).strict(),
  z
    .object({
      type: z.literal('hvac-failure'),
      at: duration,
      device: id,
      peak: z.number(),
      ramp: positive('6s'),
      for: positive('3m'),
    })
    .strict(),
  z.object({ type: z.literal('aed-removed'), at: duration, device: id, for: positive('5m') }).strict(),
  z
    .object({
      type: z.literal('fault'),
      at: duration,
      device: id,
      codes: z.array(z.string().min(1)).min(1),
      spacing: positive('1m'),
      clearAfter: positive('10s'),
    })
    .strict(),
  z.object({ type: z.literal('die'), at: duration, device: id }).strict(),
]);

const bridgeSchema = z.object({ username: id, password: z.string().optional() }).strict();

export const scenarioSchema = z
  .object({
    site: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    /** The timeline restarts after this; dead devices come back at the start of each cycle. */
    loop: positive('10m'),
    seed: z.number().int().default(1),
    bridges: z.array(bridgeSchema).default([]),
    devices: z.array(deviceSchema).min(1),
    episodes: z.array(episodeSchema).default([]),
  })
  .strict();

export type Scenario = z.output<typeof scenarioSchema>;
export type SimDevice = Scenario['devices'][number];
export type Episode = Scenario['episodes'][number];

/** Parses and checks a scenario; throws ConfigError listing `file:line: reason` for each problem. */
export function parseScenario(text: string, file = '(scenario)'): Scenario {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      'VIGIE_ERR_CONFIG_INVALID',
      doc.errors.map((e) => ({ file, line: lc.linePos(e.pos[0]).line, message: e.message.split('\n')[0] })),
    );
  }
  const lineOf = (path: readonly PropertyKey[]): number => {
    const node = doc.getIn(path as unknown[], true) as { range?: [number, number] } | undefined;
    return node?.range ? lc.linePos(node.range[0]).line : 0;
  };
  const parsed = scenarioSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new ConfigError(
      'VIGIE_ERR_CONFIG_INVALID',
      parsed.error.issues.map((i) => ({
        file,
        line: lineOf(i.path),
        message: `${i.path.join('.') || '(root)'}: ${i.message}`,
      })),
    );
  }
  const problems = crossCheck(parsed.data, lineOf, file);
  if (problems.length > 0) throw new ConfigError('VIGIE_ERR_CONFIG_INVALID', problems);
  return parsed.data;
}

export function loadScenario(file: string): Scenario {
  return parseScenario(readFileSync(file, 'utf8'), file);
}

/** What the schema cannot see alone: references between devices, bridges and episodes. */
function crossCheck(s: Scenario, lineOf: (p: readonly PropertyKey[]) => number, file: string): FileProblem[] {
  const problems: FileProblem[] = [];
  const byId = new Map<string, SimDevice>();
  s.devices.forEach((d, i) => {
    if (byId.has(d.id))
      problems.push({ file, line: lineOf(['devices', i]), message: `device ${d.id} is listed twice` });
    byId.set(d.id, d);
    if (d.via !== undefined && !s.bridges.some((b) => b.username === d.via)) {
      problems.push({
        file,
        line: lineOf(['devices', i, 'via']),
        message: `bridge ${d.via} is not in bridges`,
      });
    }
  });
  const wants: Record<Episode['type'], SimDevice['kind']> = {
    'held-open': 'door',
    forced: 'door',
    'hvac-failure': 'temperature',
    'aed-removed': 'aed',
    fault: 'appliance',
    die: 'door',
  };
  s.episodes.forEach((e, i) => {
    const d = byId.get(e.device);
    const line = lineOf(['episodes', i]);
    if (!d) problems.push({ file, line, message: `episode ${e.type}: unknown device ${e.device}` });
    else if (e.type !== 'die' && d.kind !== wants[e.type]) {
      problems.push({
        file,
        line,
        message: `episode ${e.type} needs a ${wants[e.type]}, ${d.id} is a ${d.kind}`,
      });
    } else if (e.type === 'die' && d.via !== undefined) {
      problems.push({
        file,
        line,
        message: `${d.id} publishes through ${d.via}: it has no connection of its own to lose`,
      });
    }
    if (e.at >= s.loop)
      problems.push({ file, line, message: `episode at ${e.at} ms starts after the loop ends` });
  });
  return problems;
}

export function topicOf(site: string, d: SimDevice): string {
  return d.topic ?? `vigie/${site}/${d.kind}/${d.id}`;
}
