import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Scalar } from './model.js';
import { ruleYaml, setup } from './test-support.js';

// Every condition type, as a script of events and clock moves with the transitions a user expects.

type Step =
  | { send: string; values: Record<string, Scalar>; expect: string[]; ts?: number }
  | { status: string; s: 'online' | 'offline'; expect: string[] }
  | { wait: number; expect: string[] };

const O = (dev: string, rule = 'r') => `open:${rule}:${dev}`;
const C = (dev: string, rule = 'r') => `clear:${rule}:${dev}`;

const CASES: { name: string; listen: string; steps: Step[] }[] = [
  {
    name: 'state: open true opens at once and clears when closed',
    listen: 'devices: { kind: door }\nwhen: { state: { open: true } }',
    steps: [
      { send: 'd1', values: { open: false }, expect: [] },
      { send: 'd1', values: { open: true }, expect: [O('d1')] },
      { send: 'd1', values: { open: true, badge: 'X' }, expect: [] },
      { send: 'd2', values: { open: false }, expect: [] },
      { send: 'd1', values: { open: false }, expect: [C('d1')] },
    ],
  },
  {
    name: 'state: a list means one of',
    listen: 'devices: { kind: appliance }\nwhen: { state: { status: [fault, error] } }',
    steps: [
      { send: 'a1', values: { status: 'ok' }, expect: [] },
      { send: 'a1', values: { status: 'error' }, expect: [O('a1')] },
      { send: 'a1', values: { status: 'fault' }, expect: [] },
      { send: 'a1', values: { status: 'ok' }, expect: [C('a1')] },
    ],
  },
  {
    name: 'threshold above with for: must hold the whole window',
    listen: 'devices: { kind: temperature }\nwhen: { threshold: { field: celsius, above: 28 } }\nfor: 30s',
    steps: [
      { send: 't1', values: { celsius: 29 }, expect: [] },
      { wait: 20_000, expect: [] },
      { send: 't1', values: { celsius: 27 }, expect: [] },
      { wait: 20_000, expect: [] },
      { send: 't1', values: { celsius: 30 }, expect: [] },
      { wait: 29_999, expect: [] },
      { wait: 1, expect: [O('t1')] },
      { send: 't1', values: { celsius: 20 }, expect: [C('t1')] },
    ],
  },
  {
    name: 'threshold below',
    listen: 'devices: { kind: temperature }\nwhen: { threshold: { field: celsius, below: 16 } }',
    steps: [
      { send: 't1', values: { celsius: 16 }, expect: [] },
      { send: 't1', values: { celsius: 15.9 }, expect: [O('t1')] },
      { send: 't1', values: { celsius: 16 }, expect: [C('t1')] },
    ],
  },
  {
    name: 'absent: a fixed silence opens, the next message clears',
    listen: 'devices: { ids: [t1] }\nwhen: { absent: 5m }',
    steps: [
      { send: 't1', values: { celsius: 20 }, expect: [] },
      { wait: 299_999, expect: [] },
      { wait: 1, expect: [O('t1')] },
      { wait: 600_000, expect: [] },
      { send: 't1', values: { celsius: 20 }, expect: [C('t1')] },
      { wait: 300_000, expect: [O('t1')] },
    ],
  },
  {
    name: 'absent: heartbeat uses each device heartbeat; a device that never spoke counts from start',
    listen: 'devices: all\nwhen: { absent: heartbeat }',
    steps: [
      { wait: 60_000, expect: [O('t1')] },
      { send: 'd1', values: { open: false }, expect: [] },
      { wait: 60_000, expect: [] },
      { wait: 60_000, expect: [O('d1')] },
    ],
  },
  {
    name: 'status: offline opens, online or data clears',
    listen: 'devices: all\nwhen: { status: offline }',
    steps: [
      { status: 'd1', s: 'offline', expect: [O('d1')] },
      { status: 'd1', s: 'offline', expect: [] },
      { status: 'd1', s: 'online', expect: [C('d1')] },
      { status: 'd2', s: 'offline', expect: [O('d2')] },
      { send: 'd2', values: { open: false }, expect: [C('d2')] },
    ],
  },
  {
    name: 'badge: allowed badge in the same message or within 10 s before the open',
    listen:
      'devices: { kind: door }\nwhen:\n  all:\n    - state: { open: true }\n    - not: { badge: { before: open, within: 10s, allow: staff } }',
    steps: [
      { send: 'd1', values: { open: true, badge: 'A1234' }, expect: [] },
      { send: 'd1', values: { open: false }, expect: [] },
      { send: 'd1', values: { open: false, badge: 'B2000' }, expect: [] },
      { wait: 10_000, expect: [] },
      { send: 'd1', values: { open: true }, expect: [] },
      { send: 'd1', values: { open: false }, expect: [] },
      { wait: 1, expect: [] },
      { send: 'd1', values: { open: true }, expect: [O('d1')] },
      { send: 'd1', values: { open: false }, expect: [C('d1')] },
      { send: 'd1', values: { open: false, badge: 'ZZZ-unknown' }, expect: [] },
      { wait: 1000, expect: [] },
      { send: 'd1', values: { open: true }, expect: [O('d1')] },
    ],
  },
  {
    name: 'badge: a badge after the opening does not excuse it',
    listen:
      'devices: { kind: door }\nwhen:\n  all:\n    - state: { open: true }\n    - not: { badge: { before: open, within: 10s, allow: [A1234] } }',
    steps: [
      { send: 'd1', values: { open: true }, expect: [O('d1')] },
      { wait: 1000, expect: [] },
      { send: 'd1', values: { open: true, badge: 'A1234' }, expect: [] },
      { send: 'd1', values: { open: false }, expect: [C('d1')] },
    ],
  },
  {
    name: 'count: 3 matches within 10m, cleared when the window slides past',
    listen:
      'devices: { kind: appliance }\nwhen: { count: { where: { state: { status: fault } }, atLeast: 3, within: 10m } }',
    steps: [
      { send: 'a1', values: { status: 'fault' }, expect: [] },
      { wait: 60_000, expect: [] },
      { send: 'a1', values: { status: 'ok' }, expect: [] },
      { send: 'a1', values: { status: 'fault' }, expect: [] },
      { wait: 60_000, expect: [] },
      { send: 'a1', values: { status: 'fault' }, expect: [O('a1')] },
      { wait: 479_999, expect: [] },
      { wait: 1, expect: [C('a1')] },
    ],
  },
  {
    name: 'count: old matches expire before new ones count',
    listen:
      'devices: { kind: appliance }\nwhen: { count: { where: { state: { status: fault } }, atLeast: 2, within: 1m } }',
    steps: [
      { send: 'a1', values: { status: 'fault' }, expect: [] },
      { wait: 60_000, expect: [] },
      { send: 'a1', values: { status: 'fault' }, expect: [] },
      { wait: 59_000, expect: [] },
      { send: 'a1', values: { status: 'fault' }, expect: [O('a1')] },
    ],
  },
  {
    name: 'count: a flood keeps it open, and it clears when the newest atLeast matches have left the window',
    listen:
      'devices: { kind: appliance }\nwhen: { count: { where: { state: { status: fault } }, atLeast: 2, within: 1m } }',
    steps: [
      { send: 'a1', values: { status: 'fault' }, expect: [] },
      { send: 'a1', values: { status: 'fault', code: 'E1' }, expect: [O('a1')] },
      { send: 'a1', values: { status: 'fault', code: 'E2' }, expect: [] },
      { send: 'a1', values: { status: 'fault', code: 'E3' }, expect: [] },
      { wait: 59_999, expect: [] },
      { wait: 1, expect: [C('a1')] },
    ],
  },
  {
    name: 'any / not combinators',
    listen:
      'devices: { kind: door }\nwhen:\n  any:\n    - state: { open: true }\n    - not: { status: online }',
    steps: [
      { send: 'd1', values: { open: false }, expect: [] },
      { send: 'd1', values: { open: true }, expect: [O('d1')] },
      { send: 'd1', values: { open: false }, expect: [C('d1')] },
      { status: 'd1', s: 'offline', expect: [O('d1')] },
    ],
  },
  {
    name: 'clear: manual stays open while it holds, then goes idle silently; the next occurrence opens anew',
    listen: 'devices: { kind: door }\nwhen: { state: { open: true } }\nclear: manual',
    steps: [
      { send: 'd1', values: { open: true }, expect: [O('d1')] },
      { send: 'd1', values: { open: false }, expect: [] },
      { send: 'd1', values: { open: true }, expect: [O('d1')] },
    ],
  },
];

describe('conditions', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const { send, status, wait } = setup(ruleYaml('r', c.listen));
      c.steps.forEach((s, i) => {
        const got =
          'send' in s ? send(s.send, s.values, s.ts) : 'status' in s ? status(s.status, s.s) : wait(s.wait);
        assert.deepEqual(got, s.expect, `step ${i + 1}: ${JSON.stringify(s)}`);
      });
    });
  }

  it('explains why in a short sentence', () => {
    const reasons = (listen: string, run: (x: ReturnType<typeof setup>) => void) => {
      const x = setup(ruleYaml('r', listen));
      const out: string[] = [];
      const ingest = x.engine.ingest.bind(x.engine);
      x.engine.ingest = (ev) => {
        const r = ingest(ev);
        out.push(...r.map((t) => t.reason));
        return r;
      };
      const advance = x.engine.advance.bind(x.engine);
      x.engine.advance = () => {
        const r = advance();
        out.push(...r.map((t) => t.reason));
        return r;
      };
      run(x);
      return out[0];
    };
    assert.equal(
      reasons(
        'devices: { kind: temperature }\nwhen: { threshold: { field: celsius, above: 28 } }\nfor: 30s',
        (x) => {
          x.send('t1', { celsius: 31.2 });
          x.wait(30_000);
        },
      ),
      'celsius 31.2 above 28 for 30s',
    );
    assert.equal(
      reasons(
        'devices: { kind: door }\nwhen:\n  all:\n    - state: { open: true }\n    - not: { badge: { before: open, within: 10s, allow: staff } }',
        (x) => x.send('d1', { open: true }),
      ),
      'open = true, opened without an allowed badge within 10s',
    );
    assert.equal(
      reasons('devices: all\nwhen: { absent: 2m }', (x) => x.wait(120_000)),
      'no message for 2m',
    );
    assert.equal(
      reasons('devices: all\nwhen: { status: offline }', (x) => x.status('d1', 'offline')),
      'status offline',
    );
    assert.equal(
      reasons(
        'devices: all\nwhen: { count: { where: { state: { status: fault } }, atLeast: 2, within: 10m } }',
        (x) => {
          x.send('a1', { status: 'fault' });
          x.send('a1', { status: 'fault' }, x.clock.t + 1);
        },
      ),
      '2 messages with status = fault within 10m',
    );
  });
});
