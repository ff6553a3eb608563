import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { Engine } from '../../../rules/src/engine.js';
import type { Scalar } from '../../../rules/src/model.js';
import { TestClock } from '../../../rules/src/test-support.js';
import { memoryLogger } from '../core/log.js';
import { Registry } from '../core/metrics.js';
import type { FlowRuleDoc } from '../red/link.js';
import { loadSite } from '../site/load.js';
import { openDatabase, type Database } from '../store/db.js';
import { RuleSourceStore } from '../store/rule-sources.js';
import { RuleSetManager } from './manager.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const SITE_FILE = join(ROOT, 'rules/examples/site.yaml');
const site = loadSite(SITE_FILE);
const tmp = mkdtempSync(join(tmpdir(), 'vigie-ruleset-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const DOOR_RULE = `rule: door-held-open
name: Door held open
severity: major
listen:
  devices: { kind: door }
  when: { state: { open: true } }
  for: 30s
`;

/** A flow rule: hall B above `above` °C for 30 s (the `for` keeps a pending state to lose). */
function hot(rule: string, above: unknown = 27): FlowRuleDoc {
  return {
    doc: {
      rule,
      name: `Hot ${rule}`,
      severity: 'minor',
      listen: {
        devices: { ids: ['temp-hall-b'] },
        when: { threshold: { field: 'celsius', above } },
        for: '30s',
      },
      engage: { message: '{device.name} hot', steps: [{ notify: ['team:maintenance'] }] },
    },
    nodes: { condition: `cond-${rule}`, listen: 'listen-1' },
  };
}

interface World {
  dir: string;
  db: Database;
  clock: TestClock;
  engine: Engine;
  metrics: Registry;
  logger: ReturnType<typeof memoryLogger>;
  manager: RuleSetManager;
  loaded: number;
}

let n = 0;
let w: World;

/** A manager over a rule directory and a database; `from` reuses them, as a restart does. */
function start(from?: World): World {
  let dir = from?.dir;
  if (!dir) {
    dir = join(tmp, `case-${n++}`);
    mkdirSync(join(dir, 'rules'), { recursive: true });
    writeFileSync(join(dir, 'rules', 'door.yaml'), DOOR_RULE);
  }
  from?.db.close();
  const db = openDatabase(dir);
  const clock = new TestClock();
  const engine = new Engine({ clock });
  engine.setDevices(site.devices);
  const metrics = new Registry();
  const logger = memoryLogger();
  const manager = new RuleSetManager({
    dir: join(dir, 'rules'),
    siteFile: SITE_FILE,
    site,
    channels: new Set(['console']),
    engine,
    logger,
    metrics,
    sources: new RuleSourceStore(db),
  });
  const world: World = { dir, db, clock, engine, metrics, logger, manager, loaded: 0 };
  manager.onLoaded(() => world.loaded++);
  return world;
}

function send(world: World, deviceId: string, values: Record<string, Scalar>): string[] {
  const kind = site.devices.find((d) => d.id === deviceId)!.kind;
  const t = world.clock.now();
  const out = world.engine.ingest({ site: site.id, deviceId, kind, ts: t, receivedAt: t, values });
  return out.map((x) => `${x.type}:${x.ruleId}:${x.deviceId}`);
}

function advance(world: World, ms: number): string[] {
  world.clock.advance(ms);
  return world.engine.advance().map((x) => `${x.type}:${x.ruleId}:${x.deviceId}`);
}

const ids = (world: World) => world.manager.current.map((r) => r.id).sort();
const updates = (world: World, result: string) =>
  world.metrics.counter('vigie_rule_source_updates_total', '').get({ source: 'node-red', result });

beforeEach(async () => {
  w?.db.close();
  w = start();
  assert.equal(await w.manager.reload(), true);
});
after(() => w?.db.close());

describe('rule set - rule sources', () => {
  it('runs an accepted flow set beside the rule files, in the same engine', () => {
    const r = w.manager.putSource('node-red', 'Embedded Node-RED', [hot('hall-hot')]);
    assert.deepEqual(r, { ok: true, rules: ['hall-hot'], problems: [] });
    assert.deepEqual(ids(w), ['door-held-open', 'hall-hot']);
    assert.equal(w.manager.sourceOf('hall-hot'), 'node-red:node-red');
    assert.equal(w.manager.sourceOf('door-held-open'), join(w.dir, 'rules', 'door.yaml'));
    assert.equal(w.loaded, 2);
    assert.deepEqual(send(w, 'temp-hall-b', { celsius: 30 }), []);
    assert.deepEqual(advance(w, 30_000), ['open:hall-hot:temp-hall-b']);
    assert.deepEqual(
      w.manager.sources().map((s) => [s.id, s.label, s.rules]),
      [['node-red', 'Embedded Node-RED', ['hall-hot']]],
    );
  });

  it('keeps the state of an unchanged flow rule when the set is sent again or changed elsewhere', () => {
    w.manager.putSource('node-red', 'Embedded Node-RED', [hot('hall-hot')]);
    send(w, 'temp-hall-b', { celsius: 30 });
    advance(w, 10_000);
    // Node-RED sends its whole set on every deploy: the same set again is a no-op.
    assert.equal(w.manager.putSource('node-red', 'Embedded Node-RED', [hot('hall-hot')]).ok, true);
    assert.equal(updates(w, 'unchanged'), 1);
    assert.equal(w.loaded, 2);
    // Another rule added beside it: the set is swapped, hall-hot keeps its pending timer.
    const r = w.manager.putSource('node-red', 'Embedded Node-RED', [hot('hall-hot'), hot('hall-warm', 25)]);
    assert.equal(r.ok, true);
    assert.equal(updates(w, 'loaded'), 2);
    assert.deepEqual(advance(w, 20_000), ['open:hall-hot:temp-hall-b']);
  });

  it('rejects a set with a problem and keeps the previous rules of the source running', () => {
    w.manager.putSource('node-red', 'Embedded Node-RED', [hot('hall-hot')]);
    const r = w.manager.putSource('node-red', 'Embedded Node-RED', [hot('hall-warm', 'warm')]);
    assert.equal(r.ok, false);
    assert.deepEqual(r.rules, ['hall-warm']);
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0].nodeId, 'cond-hall-warm');
    assert.match(r.problems[0].message, /^listen\.when\.threshold\.above: /);
    assert.deepEqual(ids(w), ['door-held-open', 'hall-hot']);
    assert.equal(updates(w, 'rejected'), 1);
    send(w, 'temp-hall-b', { celsius: 30 });
    assert.deepEqual(advance(w, 30_000), ['open:hall-hot:temp-hall-b']);
    // The dry run says the same and changes nothing.
    const v = w.manager.validateSource('node-red', [hot('hall-warm', 'warm')]);
    assert.deepEqual(v, r);
    assert.deepEqual(w.manager.validateSource('node-red', [hot('hall-warm')]), {
      ok: true,
      rules: ['hall-warm'],
      problems: [],
    });
    assert.deepEqual(ids(w), ['door-held-open', 'hall-hot']);
  });

  it('refuses a rule id that a rule file or another source already defines, naming both places', () => {
    const r = w.manager.putSource('node-red', 'Embedded', [hot('door-held-open')]);
    assert.equal(r.ok, false);
    assert.deepEqual(r.problems, [
      {
        nodeId: 'cond-door-held-open',
        rule: 'door-held-open',
        message: `rule "door-held-open" is already defined in ${join(w.dir, 'rules', 'door.yaml')}:1`,
      },
    ]);
    assert.equal(w.manager.putSource('lab', 'Lab Node-RED', [hot('hall-hot')]).ok, true);
    const again = w.manager.putSource('node-red', 'Embedded', [hot('hall-hot')]);
    assert.equal(again.problems[0].message, 'rule "hall-hot" is already defined in node-red:lab');
    assert.deepEqual(ids(w), ['door-held-open', 'hall-hot']);
  });

  it('refuses a rule-directory reload that defines an id a source runs, keeping the old set', async () => {
    w.manager.putSource('node-red', 'Embedded', [hot('hall-hot')]);
    const file = join(w.dir, 'rules', 'hot.yaml');
    writeFileSync(file, DOOR_RULE.replace('door-held-open', 'hall-hot'));
    assert.equal(await w.manager.reload(), false);
    assert.deepEqual(
      w.manager.lastProblems.map((p) => [p.file, p.message]),
      [[file, 'rule "hall-hot" is already defined in node-red:node-red']],
    );
    assert.deepEqual(ids(w), ['door-held-open', 'hall-hot']);
    assert.equal(w.manager.sourceOf('hall-hot'), 'node-red:node-red');
    assert.equal(w.manager.validate('hot.yaml', DOOR_RULE.replace('door-held-open', 'hall-hot')).ok, false);
  });

  it('runs the stored flow rules after a restart, before any reload, and forgets a removed source', async () => {
    w.manager.putSource('node-red', 'Embedded', [hot('hall-hot')]);
    w.manager.putSource('lab', 'Lab', [hot('lab-hot', 35)]);
    w = start(w);
    assert.deepEqual(ids(w), ['hall-hot', 'lab-hot']);
    send(w, 'temp-hall-b', { celsius: 30 });
    assert.deepEqual(advance(w, 30_000), ['open:hall-hot:temp-hall-b']);
    assert.equal(await w.manager.reload(), true);
    assert.deepEqual(ids(w), ['door-held-open', 'hall-hot', 'lab-hot']);

    assert.equal(w.manager.removeSource('lab'), true);
    assert.equal(w.manager.removeSource('lab'), false);
    assert.deepEqual(ids(w), ['door-held-open', 'hall-hot']);
    w = start(w);
    assert.deepEqual(
      w.manager.sources().map((s) => s.id),
      ['node-red'],
    );
  });

  it('does not run a stored set that no longer compiles, and accepts it again once fixed', () => {
    new RuleSourceStore(w.db).save('node-red', 'Embedded', [hot('hall-hot', 'warm')], 1);
    w = start(w);
    assert.deepEqual(ids(w), []);
    assert.ok(w.logger.lines.some((l) => l.includes('no longer load')));
    // The same set sent again is checked again (not skipped as unchanged), and refused again.
    assert.equal(w.manager.putSource('node-red', 'Embedded', [hot('hall-hot', 'warm')]).ok, false);
    assert.equal(w.manager.putSource('node-red', 'Embedded', [hot('hall-hot')]).ok, true);
    assert.deepEqual(ids(w), ['hall-hot']);
  });
});
