import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadRuleSet, type CompiledRule, type RuleEnv } from './compile.js';
import { parseDuration } from './duration.js';
import { Engine } from './engine.js';
import type { DeviceInfo, ScheduleSpec, Scalar, Transition } from './model.js';
import { renderTemplate } from './template.js';
import { TestClock } from './test-support.js';

// The five example rule files against the example airport site, driven through every reference
// scenario of the design brief the way a user would see them.

const here = dirname(fileURLToPath(import.meta.url));
const examples = join(here, '../../../rules/examples');

interface SiteYaml {
  site: string;
  timezone: string;
  schedules: Record<string, ScheduleSpec>;
  badgeLists: Record<string, string[]>;
  teams: { id: string }[];
  people: { id: string }[];
  policies?: Record<string, unknown>;
  templates?: Record<string, unknown>;
  dispatch?: Record<string, unknown>;
  devices: {
    id: string;
    kind: string;
    name: string;
    zone: string;
    tags?: string[];
    heartbeat?: string;
    location?: { label?: string };
    camera?: { stream?: string };
    speaker?: { sip?: string };
  }[];
}

const site = parse(readFileSync(join(examples, 'site.yaml'), 'utf8')) as SiteYaml;
const devices: DeviceInfo[] = site.devices.map((d) => ({
  id: d.id,
  kind: d.kind,
  site: site.site,
  zone: d.zone,
  name: d.name,
  tags: d.tags ?? [],
  heartbeatMs: parseDuration(d.heartbeat),
}));
const env: RuleEnv = {
  context: { badgeLists: site.badgeLists, schedules: site.schedules, timezone: site.timezone },
  kinds: new Set(['door', 'temperature', 'aed', 'appliance', 'button']),
  targets: new Set([...site.teams.map((t) => `team:${t.id}`), ...site.people.map((p) => `person:${p.id}`)]),
  channels: new Set(['console', 'ops-webhook']),
  policies: new Set(Object.keys(site.policies ?? {})),
  templates: new Set(Object.keys(site.templates ?? {})),
  dispatch: new Set(Object.keys(site.dispatch ?? {})),
};
const files = readdirSync(examples)
  .filter((f) => f.endsWith('.yaml') && f !== 'site.yaml' && !f.endsWith('.test.yaml'))
  .sort()
  .map((f) => ({ file: f, text: readFileSync(join(examples, f), 'utf8') }));

function load(): CompiledRule[] {
  const { rules, problems } = loadRuleSet(files, env);
  assert.deepEqual(problems, []);
  return rules;
}

/**
 * A running engine on the airport site, starting Monday 2026-01-05 10:00 in Paris. Scenarios
 * longer than a heartbeat would also see every silent device go offline: those transitions are
 * left out unless the scenario is about them.
 */
function airport(start = Date.UTC(2026, 0, 5, 9, 0, 0), opts: { offline?: boolean } = {}) {
  const clock = new TestClock(start);
  const engine = new Engine({ clock });
  engine.setRules(load());
  engine.setDevices(devices);
  const kind = new Map(devices.map((d) => [d.id, d.kind]));
  const log: Transition[] = [];
  const record = (all: readonly Transition[]) => {
    const ts = opts.offline ? all : all.filter((t) => t.ruleId !== 'sensor-offline');
    log.push(...ts);
    return ts.map((t) => `${t.type}:${t.ruleId}:${t.deviceId}`);
  };
  return {
    clock,
    engine,
    log,
    send: (id: string, values: Record<string, Scalar>) =>
      record(
        engine.ingest({
          site: site.site,
          deviceId: id,
          kind: kind.get(id)!,
          ts: clock.t,
          receivedAt: clock.t,
          values,
        }),
      ),
    status: (id: string, status: 'online' | 'offline') =>
      record(
        engine.ingest({
          site: site.site,
          deviceId: id,
          kind: kind.get(id)!,
          ts: clock.t,
          receivedAt: clock.t,
          values: {},
          status,
        }),
      ),
    wait: (ms: number) => {
      const out: string[] = [];
      // Step through every timer like the gateway's setTimeout loop would.
      const end = clock.t + ms;
      for (let due = engine.nextDue(); due !== undefined && due <= end; due = engine.nextDue()) {
        clock.t = Math.max(clock.t, due);
        out.push(...record(engine.advance()));
      }
      clock.t = end;
      return out;
    },
  };
}

describe('example rules on the airport site', () => {
  it('all five files parse and compile against the site', () => {
    assert.deepEqual(
      files.map((f) => f.file),
      ['aed.yaml', 'appliance.yaml', 'door.yaml', 'sensor-offline.yaml', 'temperature.yaml'],
    );
    assert.deepEqual(
      load().map((r) => r.id),
      [
        'aed-removed',
        'appliance-fault',
        'appliance-repeated-faults',
        'door-held-open',
        'door-forced',
        'door-outside-hours',
        'sensor-offline',
        'temperature-out-of-range',
        'server-room-overheat',
      ],
    );
  });

  it('door held open: incident after 30 s, the door closing clears it', () => {
    const a = airport();
    assert.deepEqual(a.send('door-g12', { open: true }), []);
    assert.deepEqual(a.wait(29_000), []);
    assert.deepEqual(a.wait(1_000), ['open:door-held-open:door-g12']);
    assert.equal(a.log[0].severity, 'major');
    assert.equal(a.log[0].reason, 'open = true for 30s');
    assert.deepEqual(a.send('door-g12', { open: false }), ['clear:door-held-open:door-g12']);
    const rule = load().find((r) => r.id === 'door-held-open')!;
    // Who is called is the site's policy (tiers, on-call rotation: gateway/src/route/policy.test.ts).
    assert.equal(rule.engage.policy, 'door-security');
    assert.equal(rule.engage.template, 'door-held');
    assert.deepEqual(rule.engage.steps, []);
  });

  it('door forced: a staff badge in the 10 s before opening is fine; no badge or a non-staff badge is not', () => {
    const a = airport();
    assert.deepEqual(a.send('door-staff-b', { open: false, badge: 'A1234' }), []);
    a.wait(5_000);
    assert.deepEqual(a.send('door-staff-b', { open: true }), []);
    a.wait(5_000);
    assert.deepEqual(a.send('door-staff-b', { open: false }), []);
    a.wait(60_000);
    assert.deepEqual(a.send('door-staff-b', { open: true }), ['open:door-forced:door-staff-b']);
    assert.equal(a.log.at(-1)!.reason, 'open = true, opened without an allowed badge within 10s');
    assert.deepEqual(a.send('door-staff-b', { open: false }), ['clear:door-forced:door-staff-b']);
    a.wait(1_000);
    assert.deepEqual(a.send('door-staff-b', { open: true, badge: 'M7001' }), [
      'open:door-forced:door-staff-b',
    ]);
    // Doors without a badge reader are not watched by this rule.
    assert.deepEqual(a.send('door-g12', { open: true }), []);
  });

  it('door outside service hours: Monday 10:00 is fine, Monday 20:00 and Saturday are not', () => {
    const a = airport();
    assert.deepEqual(a.send('door-service-1', { open: true }), []);
    assert.deepEqual(a.send('door-service-1', { open: false }), []);
    const evening = airport(Date.UTC(2026, 0, 5, 19, 0, 0));
    assert.deepEqual(evening.send('door-service-1', { open: true }), [
      'open:door-outside-hours:door-service-1',
    ]);
    assert.deepEqual(evening.send('door-service-1', { open: false }), [
      'clear:door-outside-hours:door-service-1',
    ]);
    const saturday = airport(Date.UTC(2026, 0, 10, 9, 0, 0));
    assert.deepEqual(saturday.send('door-service-1', { open: true }), [
      'open:door-outside-hours:door-service-1',
    ]);
  });

  it('temperature: out of range for 30 s, no flapping within the hysteresis, back in range clears', () => {
    const a = airport();
    assert.deepEqual(a.send('temp-hall-b', { celsius: 28 }), []);
    assert.deepEqual(a.wait(30_000), ['open:temperature-out-of-range:temp-hall-b']);
    assert.equal(a.log.at(-1)!.reason, 'celsius 28 above 27 for 30s');
    for (const c of [26.5, 27.5, 26.1]) {
      a.wait(10_000);
      assert.deepEqual(a.send('temp-hall-b', { celsius: c }), [], `${c} is within the hysteresis`);
    }
    assert.deepEqual(a.send('temp-hall-b', { celsius: 26 }), ['clear:temperature-out-of-range:temp-hall-b']);
    assert.deepEqual(a.send('temp-gate-g', { celsius: 15 }), []);
    assert.deepEqual(a.wait(30_000), ['open:temperature-out-of-range:temp-gate-g']);
    // The server room has its own, higher limit and a higher severity.
    assert.deepEqual(a.send('temp-server-room', { celsius: 29 }), []);
    assert.deepEqual(a.wait(40_000), []);
    assert.deepEqual(a.send('temp-server-room', { celsius: 31 }), []);
    assert.deepEqual(a.wait(30_000), ['open:server-room-overheat:temp-server-room']);
    assert.equal(a.log.at(-1)!.severity, 'major');
  });

  it('AED removed: critical at once, emergency and security together, then supervisors, repeated', () => {
    const a = airport();
    assert.deepEqual(a.send('aed-hall-b', { present: false, cabinetOpen: true }), [
      'open:aed-removed:aed-hall-b',
    ]);
    assert.equal(a.log[0].severity, 'critical');
    const rule = load().find((r) => r.id === 'aed-removed')!;
    assert.equal(rule.engage.policy, 'aed-emergency');
    const policy = (site.policies as Record<string, { tiers: { notify: string[]; wait?: string }[] }>)[
      'aed-emergency'
    ];
    assert.deepEqual(policy.tiers[0].notify, ['team:emergency', 'team:security']);
    assert.equal(policy.tiers[0].wait, '30s');
    assert.deepEqual(policy.tiers[1].notify, ['team:security-supervisors']);
    const dev = site.devices.find((d) => d.id === 'aed-hall-b')!;
    assert.equal(
      renderTemplate(rule.engage.message, { device: dev, camera: dev.camera, speaker: dev.speaker }),
      'AED removed: AED cabinet Hall B (Hall B, pillar 14). Camera: rtsp://127.0.0.1:8554/cam-hall-b. Talk: sip:aed-hall-b@pbx.airport.example',
    );
    assert.deepEqual(a.send('aed-hall-b', { present: true }), ['clear:aed-removed:aed-hall-b']);
  });

  it('appliance: a fault opens, recovery clears; three faults in 10 min is its own incident', () => {
    const a = airport();
    const fault = { serial: 'WM-0042', status: 'fault', code: 'E21' };
    const ok = { serial: 'WM-0042', status: 'ok' };
    assert.deepEqual(a.send('coffee-lounge-1', fault), ['open:appliance-fault:coffee-lounge-1']);
    a.wait(60_000);
    assert.deepEqual(a.send('coffee-lounge-1', ok), ['clear:appliance-fault:coffee-lounge-1']);
    a.wait(60_000);
    assert.deepEqual(a.send('coffee-lounge-1', fault), ['open:appliance-fault:coffee-lounge-1']);
    a.wait(60_000);
    assert.deepEqual(a.send('coffee-lounge-1', ok), ['clear:appliance-fault:coffee-lounge-1']);
    a.wait(60_000);
    assert.deepEqual(a.send('coffee-lounge-1', fault), [
      'open:appliance-fault:coffee-lounge-1',
      'open:appliance-repeated-faults:coffee-lounge-1',
    ]);
    assert.equal(a.log.at(-1)!.reason, '3 messages with status = fault within 10m');
    a.wait(60_000);
    assert.deepEqual(a.send('coffee-lounge-1', ok), ['clear:appliance-fault:coffee-lounge-1']);
    // The first fault leaves the window 10 min after it was reported.
    assert.deepEqual(a.wait(5 * 60_000), ['clear:appliance-repeated-faults:coffee-lounge-1']);
  });

  it('sensor offline: last will or silence beyond the heartbeat; a message clears it', () => {
    const a = airport(undefined, { offline: true });
    assert.deepEqual(a.status('door-g14', 'offline'), ['open:sensor-offline:door-g14']);
    assert.deepEqual(a.status('door-g14', 'online'), ['clear:sensor-offline:door-g14']);
    // Keep everything else talking; the Gates G thermometer goes quiet.
    const talkers = devices.filter((d) => d.id !== 'temp-gate-g' && d.heartbeatMs !== undefined);
    const quiet: string[] = [];
    for (let i = 0; i < 4; i++) {
      for (const d of talkers)
        a.engine.ingest({
          site: 'airport',
          deviceId: d.id,
          kind: d.kind,
          ts: a.clock.t,
          receivedAt: a.clock.t,
          values: {},
          status: 'online',
        });
      quiet.push(...a.wait(45_000));
    }
    assert.deepEqual(quiet, ['open:sensor-offline:temp-gate-g']);
    assert.equal(a.log.at(-1)!.reason, 'no message for 2m');
    assert.deepEqual(a.send('temp-gate-g', { celsius: 21 }), ['clear:sensor-offline:temp-gate-g']);
  });
});
