// Helpers shared by the rules tests (not part of the public surface).
import assert from 'node:assert/strict';
import { loadRuleSet, type CompiledRule, type RuleEnv } from './compile.js';
import { Engine } from './engine.js';
import type { Clock, DeviceInfo, Scalar, SensorEvent, Transition } from './model.js';

export class TestClock implements Clock {
  constructor(public t = Date.UTC(2026, 0, 5, 12, 0, 0)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): number {
    return (this.t += ms);
  }
}

export const testEnv: RuleEnv = {
  context: {
    badgeLists: { staff: ['A1234', 'B2000'] },
    schedules: {
      office: { windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' }] },
    },
    timezone: 'Europe/Paris',
  },
  kinds: new Set(['door', 'temperature', 'aed', 'appliance']),
  targets: new Set(['team:security', 'team:ops', 'person:amina', 'person:ops']),
  channels: new Set(['console', 'ops-webhook']),
};

export function compile(yaml: string, env: RuleEnv = testEnv): CompiledRule[] {
  const { rules, problems } = loadRuleSet([{ file: 'test.yaml', text: yaml }], env);
  assert.deepEqual(problems, []);
  return rules;
}

/** A rule file around one `listen` section (indented YAML of its keys). */
export function ruleYaml(id: string, listen: string, extra = ''): string {
  const body = listen
    .trim()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
  return `rule: ${id}\nname: ${id}\nseverity: major\nlisten:\n${body}\n${extra}engage:\n  message: '{device.name}'\n  steps:\n    - notify: [team:security]\n`;
}

export const devices: DeviceInfo[] = [
  { id: 'd1', kind: 'door', site: 's', zone: 'z1', tags: ['badge-reader'], heartbeatMs: 120_000 },
  { id: 'd2', kind: 'door', site: 's', zone: 'z2', tags: [] },
  { id: 't1', kind: 'temperature', site: 's', zone: 'z1', heartbeatMs: 60_000 },
  { id: 'a1', kind: 'appliance', site: 's', zone: 'z1' },
];

export function setup(yaml: string, opts: { skew?: number; devs?: DeviceInfo[] } = {}) {
  const clock = new TestClock();
  const engine = new Engine({ clock, maxClockSkewMs: opts.skew });
  engine.setRules(compile(yaml));
  engine.setDevices(opts.devs ?? devices);
  const kindOf = new Map((opts.devs ?? devices).map((d) => [d.id, d.kind]));
  /** Sends a data event (ts defaults to now) and returns the transitions as "open:rule:device". */
  const send = (deviceId: string, values: Record<string, Scalar>, ts = clock.t): string[] =>
    show(engine.ingest(event(deviceId, kindOf.get(deviceId) ?? 'door', values, ts, clock.t)));
  const status = (deviceId: string, s: 'online' | 'offline', ts = clock.t): string[] =>
    show(engine.ingest({ ...event(deviceId, kindOf.get(deviceId) ?? 'door', {}, ts, clock.t), status: s }));
  /** Moves the clock and fires due timers. */
  const wait = (ms: number): string[] => {
    clock.advance(ms);
    return show(engine.advance());
  };
  return { clock, engine, send, status, wait };
}

export function event(
  deviceId: string,
  kind: string,
  values: Record<string, Scalar>,
  ts: number,
  receivedAt = ts,
): SensorEvent {
  return { site: 's', deviceId, kind, ts, receivedAt, values };
}

export function show(ts: readonly Transition[]): string[] {
  return ts.map((t) => `${t.type}:${t.ruleId}:${t.deviceId}`);
}
