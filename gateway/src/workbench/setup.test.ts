import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DRY_RUN_TYPES, loadWorkbench } from './setup.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = join(here, '../../../..');
const EXAMPLES = join(ROOT, 'rules/examples');
const SITE = join(EXAMPLES, 'site.yaml');
const DOORS_FLOW = join(ROOT, 'rules/node-red/examples/01-doors.json');

describe('workbench setup - rules, site and dry-run channels', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigie-setup-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the example rules load against the example site, with console always there', async () => {
    const { workbench, problems } = await loadWorkbench({ rulesDir: EXAMPLES, siteFile: SITE });
    assert.deepEqual(problems, []);
    const ids = workbench!.rules.map((r) => r.id);
    for (const id of ['door-held-open', 'door-forced', 'aed-removed', 'sensor-offline'])
      assert.ok(ids.includes(id), id);
    assert.deepEqual([...workbench!.channels], [['console', 'console']]);
    assert.equal(workbench!.site.id, 'airport');
  });

  test('channels are asked by type or as name:type; the site keeps its optional channels that exist', async () => {
    const { workbench, problems } = await loadWorkbench({
      rulesDir: EXAMPLES,
      siteFile: SITE,
      channels: ['voice', 'pager:sms'],
    });
    assert.deepEqual(problems, []);
    assert.equal(workbench!.channels.get('voice'), 'voice');
    assert.equal(workbench!.channels.get('pager'), 'sms');
    // `voice?` in the door-security policy stays, `sms?` goes (this replay has no channel named sms).
    assert.deepEqual(workbench!.site.policies['door-security'].tiers[0].via, ['voice', 'console']);
  });

  test('an unknown channel type, or a bad spec, is a problem', async () => {
    const { problems } = await loadWorkbench({
      rulesDir: EXAMPLES,
      siteFile: SITE,
      channels: ['pigeon', 'x:fax', 'a:b:c'],
    });
    assert.equal(problems.length, 3);
    assert.ok(problems.every((p) => p.file === '--channels'));
    assert.match(problems[0].message, /unknown channel type "pigeon" \(known: console, webhook/);
    assert.match(problems[1].message, /unknown channel type "fax"/);
    assert.deepEqual(DRY_RUN_TYPES.includes('sms'), true);
  });

  test('a site file that does not load gives its problems, with their lines', async () => {
    const site = join(dir, 'bad-site.yaml');
    writeFileSync(
      site,
      readFileSync(SITE, 'utf8').replace('timezone: Europe/Paris', 'timezone: Mars/Olympus'),
    );
    const { workbench, problems } = await loadWorkbench({ rulesDir: join(dir, 'none'), siteFile: site });
    assert.equal(workbench, undefined);
    assert.ok(
      problems.some((p) => p.file === site && p.line === 7),
      JSON.stringify(problems),
    );
  });

  test('a rule error is a problem with its file and line', async () => {
    const rules = join(dir, 'rules-bad');
    mkdirSync(rules);
    writeFileSync(
      join(rules, 'x.yaml'),
      'rule: x\nname: X\nseverity: huge\nlisten:\n  devices: all\n  when: { state: { open: true } }\n',
    );
    const { problems } = await loadWorkbench({ rulesDir: rules, siteFile: SITE });
    assert.equal(problems.length, 1);
    assert.equal(problems[0].file, join(rules, 'x.yaml'));
    assert.equal(problems[0].line, 3);
  });

  test('Node-RED flows add their rules, compiled like rule files', async () => {
    const rules = join(dir, 'rules-aed-only');
    mkdirSync(rules);
    copyFileSync(join(EXAMPLES, 'aed.yaml'), join(rules, 'aed.yaml'));
    const { workbench, problems } = await loadWorkbench({
      rulesDir: rules,
      siteFile: SITE,
      flows: [DOORS_FLOW],
    });
    assert.deepEqual(problems, []);
    const byId = new Map(workbench!.rules.map((r) => [r.id, r]));
    assert.deepEqual([...byId.keys()].sort(), [
      'aed-removed',
      'door-forced',
      'door-held-open',
      'door-outside-hours',
    ]);
    assert.equal(byId.get('door-held-open')!.file, 'node-red:node-red');
    assert.equal(byId.get('door-held-open')!.forMs, 30_000);
  });

  test('a rule defined in the rules directory and in a flow is a problem on the flow node', async () => {
    const { problems } = await loadWorkbench({ rulesDir: EXAMPLES, siteFile: SITE, flows: [DOORS_FLOW] });
    assert.equal(problems.length, 3);
    assert.ok(problems.every((p) => p.file === DOORS_FLOW && p.line === 0));
    assert.match(
      problems[0].message,
      /^node \S+: rule "door-held-open" is already defined in .*door\.yaml:\d+$/,
    );
  });

  test('a flows file that is not a node list is a problem', async () => {
    const bad = join(dir, 'flows.json');
    writeFileSync(bad, '{"nodes": 1}');
    const missing = join(dir, 'missing.json');
    const { problems } = await loadWorkbench({ rulesDir: EXAMPLES, siteFile: SITE, flows: [bad, missing] });
    assert.deepEqual(
      problems.map((p) => [p.file, p.message.split(':')[0]]),
      [
        [bad, 'a flows file is a JSON array of nodes'],
        [missing, 'cannot read the flows file'],
      ],
    );
  });

  test('a flow node with a mistake is a problem naming the node', async () => {
    const nodes = JSON.parse(readFileSync(DOORS_FLOW, 'utf8')) as {
      type: string;
      id: string;
      severity?: string;
    }[];
    const cond = nodes.find((n) => n.type === 'vigie-condition')!;
    cond.severity = 'huge';
    const file = join(dir, 'broken-flows.json');
    writeFileSync(file, JSON.stringify(nodes));
    const rules = join(dir, 'rules-empty');
    mkdirSync(rules);
    const { problems } = await loadWorkbench({ rulesDir: rules, siteFile: SITE, flows: [file] });
    assert.ok(
      problems.some((p) => p.file === file && p.message.startsWith(`node ${cond.id}: `)),
      JSON.stringify(problems),
    );
  });
});
