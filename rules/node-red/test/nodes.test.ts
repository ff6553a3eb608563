import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { after, afterEach, before, describe, it } from 'node:test';
import { FakeLink, incident } from './fake-link.js';
import { PKG, waitFor } from './support.js';

// Every node in a real Node-RED v4 runtime (node-red-node-test-helper), the gateway replaced by a
// FakeLink handed over the way the gateway does it: settings.vigie = { link, sourceId }.

const require = createRequire(import.meta.url);
const helper = require('node-red-node-test-helper');
helper.init(require.resolve('node-red'));
const NODES = [
  'vigie-gateway',
  'vigie-listen',
  'vigie-condition',
  'vigie-route',
  'vigie-engage',
  'vigie-incident',
].map((n) => require(`${PKG}/nodes/${n}.js`));

type N = Record<string, unknown> & { id: string; type: string };

const STEPS =
  '- notify: [team:maintenance]\n  via: [console, ops-webhook?]\n- after: 60s\n  notify: [team:maintenance-supervisors]';

function chain(over: Record<string, Partial<N>> = {}): N[] {
  return [
    { id: 'f1', type: 'tab', label: 'Rules' },
    {
      id: 'l1',
      type: 'vigie-listen',
      z: 'f1',
      name: '',
      gateway: '',
      all: false,
      kind: 'temperature',
      ids: '',
      zones: 'hall-b, gates-g',
      tags: '',
      wires: [['c1']],
      ...over.l1,
    },
    {
      id: 'c1',
      type: 'vigie-condition',
      z: 'f1',
      name: 'Temperature out of range',
      rule: 'temperature-out-of-range',
      severity: 'minor',
      description: '',
      condition: 'threshold',
      field: 'celsius',
      above: '27',
      below: '16',
      hysteresis: '1',
      for: '30s',
      clear: 'auto',
      scheduleMode: '',
      unlessBadge: false,
      wires: [['r1']],
      ...over.c1,
    },
    {
      id: 'r1',
      type: 'vigie-route',
      z: 'f1',
      name: '',
      team: 'maintenance',
      policy: '',
      context: 'location',
      crm: false,
      dispatch: '',
      contactCenter: true,
      wires: [['e1']],
      ...over.r1,
    },
    {
      id: 'e1',
      type: 'vigie-engage',
      z: 'f1',
      name: '',
      message: '{device.name}: {values.celsius} °C',
      template: '',
      steps: STEPS,
      repeatEvery: '',
      repeatTimes: '',
      wires: [['i1']],
      ...over.e1,
    },
    {
      id: 'i1',
      type: 'vigie-incident',
      z: 'f1',
      name: '',
      gateway: '',
      scope: 'chain',
      rules: '',
      transitions: '',
      wires: [['out'], ['replies']],
      ...over.i1,
    },
    { id: 'out', type: 'helper', z: 'f1' },
    { id: 'replies', type: 'helper', z: 'f1' },
  ];
}

const EXPECTED_DOC = {
  rule: 'temperature-out-of-range',
  name: 'Temperature out of range',
  severity: 'minor',
  listen: {
    devices: { kind: 'temperature', zones: ['hall-b', 'gates-g'] },
    when: { threshold: { field: 'celsius', above: 27, below: 16, hysteresis: 1 } },
    for: '30s',
  },
  route: { team: 'maintenance', context: ['location'] },
  engage: {
    message: '{device.name}: {values.celsius} °C',
    steps: [
      { notify: ['team:maintenance'], via: ['console', 'ops-webhook?'] },
      { after: '60s', notify: ['team:maintenance-supervisors'] },
    ],
  },
};

function calls(id: string, method: 'status' | 'error' | 'send' | 'warn'): any[][] {
  const n = helper.getNode(id);
  return n[method]
    .getCalls()
    .filter((c: any) => c.thisValue === n)
    .map((c: any) => c.args);
}
const lastStatus = (id: string) => calls(id, 'status').at(-1)?.[0] ?? {};
const errors = (id: string) => calls(id, 'error').map((a) => String(a[0]));

async function load(flow: N[], link = new FakeLink(), extra: Record<string, unknown> = {}) {
  helper.settings({ vigie: { link, sourceId: 'node-red', retryMs: 10, ...extra } });
  await helper.load(NODES, flow);
  return link;
}

function received(id: string): any[] {
  const got: any[] = [];
  helper.getNode(id).on('input', (msg: any) => got.push(msg));
  return got;
}

describe('vigie nodes in Node-RED', () => {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  it('load with a good configuration, send the chain as one rule and show it running', async () => {
    const link = await load(chain());
    await waitFor(() => link.puts.length === 1, 'putRules');
    const put = link.puts[0];
    assert.equal(put.sourceId, 'node-red');
    assert.equal(put.rules.length, 1);
    assert.deepEqual(put.rules[0].doc, EXPECTED_DOC);
    assert.deepEqual(put.rules[0].nodes, { condition: 'c1', listen: 'l1', route: 'r1', engage: 'e1' });
    assert.deepEqual(put.rules[0].flow, { id: 'f1', label: 'Rules' });
    const s = await waitFor(
      () => (/running/.test(lastStatus('c1').text ?? '') ? lastStatus('c1') : undefined),
      'status',
    );
    assert.deepEqual(s, {
      fill: 'green',
      shape: 'dot',
      text: 'rule temperature-out-of-range running · 0 open',
    });
    assert.equal(lastStatus('r1').text, '1 rule');
    assert.equal(lastStatus('l1').fill, 'green');
    for (const id of ['l1', 'c1', 'r1', 'e1', 'i1']) assert.deepEqual(errors(id), [], id);
    // No one reads sensor events in Node-RED: the hot path is not tapped.
    assert.equal(link.sensorListeners.size, 0);
  });

  it('a remote gateway config node loads; the embedded set is still sent (empty) so deleted flows stop', async () => {
    const link = await load([
      { id: 'f1', type: 'tab', label: 'Rules' },
      {
        id: 'g1',
        type: 'vigie-gateway',
        name: 'site B',
        mode: 'remote',
        url: 'http://127.0.0.1:9',
        source: 'nr-test',
      },
    ]);
    await waitFor(() => link.puts.length === 1, 'putRules');
    assert.deepEqual(link.puts[0].rules, []);
    const g = helper.getNode('g1');
    assert.equal(g.mode, 'remote');
    assert.equal(g.source, 'nr-test');
    assert.match(g.linkError, /bearer token/);
  });

  it('sends the chains of a remote gateway over its API, with its token and source id', async () => {
    const seen: { method?: string; url?: string; auth?: string; body: any }[] = [];
    const api = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        seen.push({
          method: req.method,
          url: req.url,
          auth: req.headers.authorization,
          body: text && JSON.parse(text),
        });
        res.writeHead(200, {
          'content-type': 'application/json',
        });
        res.end(
          JSON.stringify(
            req.method === 'PUT'
              ? { ok: true, rules: ['temperature-out-of-range'], problems: [] }
              : { incidents: [] },
          ),
        );
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
      const flow = chain({ l1: { gateway: 'g1' } });
      flow.push({ id: 'g1', type: 'vigie-gateway', name: 'Site B', mode: 'remote', url, source: 'nr-test' });
      helper.settings({ vigie: { link: new FakeLink(), sourceId: 'node-red', retryMs: 10 } });
      const link = (helper.settings() as any).vigie.link as FakeLink;
      await helper.load(NODES, flow, { g1: { token: 'tok-123' } });
      const put = await waitFor(() => seen.find((x) => x.method === 'PUT'), 'PUT over HTTP');
      assert.equal(put.url, '/api/v1/rule-sources/nr-test');
      assert.equal(put.auth, 'Bearer tok-123');
      assert.equal(put.body.label, 'Site B');
      assert.deepEqual(put.body.rules[0].doc, EXPECTED_DOC);
      await waitFor(() => link.puts.length === 1, 'embedded set');
      assert.deepEqual(link.puts[0].rules, [], 'the embedded gateway gets its (empty) set too');
      await waitFor(() => lastStatus('c1').fill === 'green', 'running');
    } finally {
      api.closeAllConnections();
      await new Promise((r) => api.close(r));
    }
  });

  it("counts the rule's open incidents in the condition's status and keeps it current", async () => {
    const link = new FakeLink();
    link.open = [incident('inc-1', 'temperature-out-of-range', 'temp-hall-b')];
    await load(chain(), link);
    await waitFor(() => lastStatus('c1').text?.endsWith('· 1 open'), 'one open');
    link.emitIncident({ transition: 'resolved', incident: { ...link.open[0], state: 'resolved' } });
    await waitFor(() => lastStatus('c1').text?.endsWith('· 0 open'), 'none open');
  });

  const bad: [string, Record<string, Partial<N>>, string, RegExp][] = [
    ['a bad duration', { c1: { for: '30' } }, 'c1', /for: "30" is not a duration/],
    ['a bad threshold', { c1: { above: 'warm' } }, 'c1', /above: "warm" is not a number/],
    ['a missing rule id', { c1: { rule: '' } }, 'c1', /rule id missing/],
    ['a condition without listen', { l1: { wires: [[]] } }, 'c1', /no vigie listen/],
    [
      'engage steps while the route has a policy',
      { r1: { policy: 'door-security' } },
      'e1',
      /remove the steps/,
    ],
    ['a listen with no devices', { l1: { kind: '', zones: '' } }, 'l1', /no devices selected/],
    ['bad YAML steps', { e1: { steps: '- notify: [a\n- x' } }, 'e1', /steps:/],
  ];
  for (const [title, over, nodeId, pattern] of bad) {
    it(`${title}: shown on ${nodeId} (red + error), nothing sent`, async () => {
      const link = await load(chain(over));
      await waitFor(() => lastStatus(nodeId).fill === 'red', `red status on ${nodeId}`);
      assert.equal(lastStatus(nodeId).shape, 'ring');
      assert.match(lastStatus(nodeId).text, pattern);
      assert.ok(
        errors(nodeId).some((e) => pattern.test(e)),
        JSON.stringify(errors(nodeId)),
      );
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(link.puts.length, 0, 'a set with problems is not sent');
    });
  }

  it('two listens into one condition: problem on the condition; the good chain beside it waits too', async () => {
    const flow = chain();
    flow.push(
      { id: 'l2', type: 'vigie-listen', z: 'f1', kind: 'door', wires: [['c1']] },
      { id: 'l3', type: 'vigie-listen', z: 'f1', kind: 'door', wires: [['c3']] },
      {
        id: 'c3',
        type: 'vigie-condition',
        z: 'f1',
        name: 'Door',
        rule: 'door',
        condition: 'state',
        field: 'open',
        values: 'true',
        wires: [[]],
      },
    );
    const link = await load(flow);
    await waitFor(() => lastStatus('c1').fill === 'red', 'red c1');
    assert.match(lastStatus('c1').text, /2 vigie listen nodes/);
    assert.deepEqual(lastStatus('c3'), {
      fill: 'yellow',
      shape: 'ring',
      text: 'not sent: 1 problem in the flows; the previous rules keep running',
    });
    assert.equal(link.puts.length, 0);
  });

  it("shows the gateway's rejection on the node it names", async () => {
    const link = new FakeLink();
    link.putAnswers = [
      {
        ok: false,
        rules: [],
        problems: [
          {
            nodeId: 'r1',
            rule: 'temperature-out-of-range',
            message: 'route.team: "maintenance" is not a team of the site',
          },
        ],
      },
    ];
    await load(chain(), link);
    await waitFor(() => lastStatus('r1').fill === 'red', 'red r1');
    assert.match(lastStatus('r1').text, /is not a team of the site/);
    assert.ok(errors('r1').some((e) => /rule temperature-out-of-range: route.team/.test(e)));
    assert.match(lastStatus('c1').text, /rejected by the gateway/);
  });

  it('retries an unreachable gateway with backoff until it works', async () => {
    const link = new FakeLink();
    link.putAnswers = [
      new Error('connect ECONNREFUSED'),
      new Error('connect ECONNREFUSED'),
      { ok: true, rules: ['temperature-out-of-range'], problems: [] },
    ];
    await load(chain(), link);
    await waitFor(() => lastStatus('c1').fill === 'green', 'green after retries');
    assert.equal(link.puts.length, 3);
    const seen = calls('c1', 'status').map((a) => a[0].text);
    assert.ok(seen.includes('gateway unreachable: connect ECONNREFUSED (retrying)'), JSON.stringify(seen));
  });

  describe('vigie listen', () => {
    it('injects {topic, payload} into the gateway; an object payload goes as JSON', async () => {
      const link = await load(chain());
      const l1 = helper.getNode('l1');
      l1.receive({ topic: 'vigie/airport/temperature/temp-hall-b', payload: { celsius: 31 } });
      l1.receive({ topic: 'vigie/airport/door/door-g12', payload: Buffer.from('{"open":true}') });
      await waitFor(() => link.injects.length === 2, 'two injects');
      assert.deepEqual(link.injects[0], {
        topic: 'vigie/airport/temperature/temp-hall-b',
        payload: '{"celsius":31}',
      });
      assert.equal(String(link.injects[1].payload), '{"open":true}');
      assert.deepEqual(errors('l1'), []);
    });

    it('reports rejections and bad messages with node.error, counts them, never throws', async () => {
      const link = new FakeLink();
      link.injectAnswer = { ok: false, error: 'unknown_device: no such device' };
      await load(chain(), link);
      const l1 = helper.getNode('l1');
      l1.receive({ topic: 'vigie/airport/door/nope', payload: '{}' });
      l1.receive({ payload: '{}' });
      l1.receive({ topic: 'vigie/airport/door/door-g12', payload: 42 });
      l1.receive({ topic: 'vigie/airport/door/door-g12' });
      await waitFor(() => errors('l1').length === 4, 'four errors');
      const e = errors('l1');
      assert.ok(e.includes('unknown_device: no such device'));
      assert.ok(e.some((x) => /msg.topic must be/.test(x)));
      assert.ok(e.some((x) => /not number/.test(x)));
      assert.ok(e.some((x) => /not undefined/.test(x)));
      assert.equal(link.injects.length, 1);
      await waitFor(() => /4 rejected/.test(lastStatus('l1').text ?? ''), 'count in status');
      // the msg goes with the error, so a Catch node sees which message failed
      const withMsg = calls('l1', 'error').find((a) => a[0] === 'unknown_device: no such device');
      assert.equal(withMsg?.[1]?.topic, 'vigie/airport/door/nope');
    });

    it('sends sensor events of its devices only when wired to a non-Vigie node', async () => {
      const flow = chain({ l1: { wires: [['c1', 'tap']], zones: 'hall-b' } });
      flow.push({ id: 'tap', type: 'helper', z: 'f1' });
      const link = await load(flow);
      await waitFor(() => link.sensorListeners.size === 1, 'tap subscribed');
      const got = received('tap');
      const ev = (deviceId: string, kind: string) => ({
        site: 'airport',
        deviceId,
        kind,
        ts: 1,
        receivedAt: 1,
        values: { celsius: 30 },
      });
      // the zone selector needs the catalog: give it a moment to arrive
      await new Promise((r) => setTimeout(r, 30));
      link.emitSensor(ev('temp-hall-b', 'temperature'));
      link.emitSensor(ev('door-g12', 'door'));
      link.emitSensor(ev('temp-other', 'temperature')); // not in the catalog: zone unknown
      await waitFor(() => got.length >= 1, 'one event');
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(got.length, 1);
      assert.equal(got[0].topic, 'vigie/airport/temperature/temp-hall-b');
      assert.deepEqual(got[0].payload.values, { celsius: 30 });
      assert.deepEqual(calls('c1', 'warn'), [], 'conditions ignore the events they also receive');
    });
  });

  describe('vigie incident', () => {
    it('emits the transitions of its chain only, filtered by transition', async () => {
      const link = await load(chain({ i1: { transitions: 'opened, resolved' } }));
      await waitFor(() => link.puts.length === 1, 'deployed');
      const got = received('out');
      const mine = incident('inc-1', 'temperature-out-of-range', 'temp-hall-b');
      link.emitIncident({ transition: 'opened', incident: mine });
      link.emitIncident({ transition: 'opened', incident: incident('inc-2', 'door-held-open') });
      link.emitIncident({ transition: 'acknowledged', incident: { ...mine, state: 'acknowledged' } });
      link.emitIncident({ transition: 'resolved', incident: { ...mine, state: 'resolved' } });
      await waitFor(() => got.length === 2, 'two transitions');
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(
        got.map((m) => [m.topic, m.payload.transition, m.payload.incident.id]),
        [
          ['vigie/airport/incidents/inc-1', 'opened', 'inc-1'],
          ['vigie/airport/incidents/inc-1', 'resolved', 'inc-1'],
        ],
      );
    });

    it('scope all and scope rules', async () => {
      const flow = chain({ i1: { scope: 'all' } });
      flow.push(
        {
          id: 'i2',
          type: 'vigie-incident',
          z: 'f1',
          scope: 'rules',
          rules: 'door-held-open',
          wires: [['out2'], []],
        },
        { id: 'out2', type: 'helper', z: 'f1' },
      );
      const link = await load(flow);
      const all = received('out');
      const some = received('out2');
      link.emitIncident({ transition: 'opened', incident: incident('inc-1', 'temperature-out-of-range') });
      link.emitIncident({ transition: 'opened', incident: incident('inc-2', 'door-held-open') });
      await waitFor(() => all.length === 2 && some.length === 1, 'transitions');
      assert.equal(some[0].payload.incident.id, 'inc-2');
    });

    it('acknowledges and resolves on input and replies on output 2', async () => {
      const link = new FakeLink();
      link.open = [incident('inc-1', 'temperature-out-of-range', 'temp-hall-b')];
      await load(chain(), link);
      const replies = received('replies');
      const i1 = helper.getNode('i1');
      i1.receive({ payload: 'acknowledge', incidentId: 'inc-1', by: 'alice' });
      i1.receive({
        payload: { action: 'resolve', note: 'fixed' },
        rule: 'temperature-out-of-range',
        deviceId: 'temp-hall-b',
      });
      await waitFor(() => replies.length === 2, 'two replies');
      assert.deepEqual(link.acts, [
        { action: 'acknowledge', incidentId: 'inc-1', by: 'alice' },
        { action: 'resolve', incidentId: 'inc-1', by: 'flow', note: 'fixed' },
      ]);
      assert.equal(replies[0].payload.ok, true);
      assert.equal(replies[0].payload.incident.state, 'acknowledged');
      assert.equal(replies[1].payload.action, 'resolve');
      assert.deepEqual(errors('i1'), []);
    });

    it('bad messages: node.error, a reply, a count in the status, never a throw', async () => {
      const link = await load(chain());
      const replies = received('replies');
      const i1 = helper.getNode('i1');
      i1.receive({ payload: 42 });
      i1.receive({ payload: 'ack', incidentId: 'inc-1' });
      i1.receive({ payload: 'resolve' });
      i1.receive({ payload: { action: 'resolve', incidentId: 'inc-404' } });
      i1.receive({ payload: 'resolve', rule: 'temperature-out-of-range', deviceId: 'nowhere' });
      await waitFor(() => replies.length === 5, 'five replies');
      const e = errors('i1');
      assert.ok(e.some((x) => /msg.payload must be/.test(x)));
      assert.ok(e.some((x) => /unknown action "ack"/.test(x)));
      assert.ok(e.some((x) => /which incident\?/.test(x)));
      assert.ok(e.includes('incident inc-404 not found'));
      assert.ok(e.some((x) => /no open incident of rule temperature-out-of-range on device nowhere/.test(x)));
      assert.ok(replies.every((m) => m.payload.ok === false));
      await waitFor(() => /5 bad messages/.test(lastStatus('i1').text ?? ''), 'count');
      assert.deepEqual(
        link.acts.map((a) => a.incidentId),
        ['inc-404'],
      );
    });
  });

  describe('admin endpoints', () => {
    it('GET /vigie/catalog answers with the gateway catalog', async () => {
      await load(chain());
      const res = await helper.request().get('/vigie/catalog').expect(200);
      assert.deepEqual(res.body.kinds, ['door', 'temperature']);
    });

    it('POST /vigie/check dry-runs the draft set through validateRules, or lists the editor problems', async () => {
      const link = await load(chain());
      const ok = await helper
        .request()
        .post('/vigie/check')
        .send({ condition: 'c1', nodes: chain() })
        .expect(200);
      assert.equal(ok.body.ok, true);
      assert.equal(ok.body.checked, 'gateway');
      assert.deepEqual(link.validations.at(-1)?.rules[0].doc, EXPECTED_DOC);
      const bad = await helper
        .request()
        .post('/vigie/check')
        .send({ condition: 'c1', nodes: chain({ c1: { for: 'soon' } }) })
        .expect(200);
      assert.equal(bad.body.ok, false);
      assert.equal(bad.body.problems[0].nodeId, 'c1');
      await helper.request().post('/vigie/check').send({}).expect(400);
    });
  });
});
