import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../gateway/src/core/errors.js';
import { loadRouterConfig } from './config.js';

// dist/router/src -> the repository's router/examples (the build dir holds a link to router/).
const EXAMPLE = fileURLToPath(new URL('../../../router/examples/router.yaml', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'vigie-router-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(text: string): string {
  const p = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(p, text);
  return p;
}

function problems(text: string): string[] {
  try {
    loadRouterConfig(file(text));
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'VIGIE_ERR_CONFIG_INVALID');
    return err.problems.map((p) => `${p.line}: ${p.message}`);
  }
  assert.fail('expected a configuration error');
}

const MINIMAL = `nats: { servers: [nats://127.0.0.1:4222] }
queues:
  - { id: desk, name: Desk, skills: [general], agents: 1, avgHandleSec: 60 }
intents:
  default: { intent: general, skill: general }
`;

describe('router config', () => {
  it('the airport example loads, with its defaults filled in', () => {
    const c = loadRouterConfig(EXAMPLE);
    assert.equal(c.streams.events, 'VIGIE');
    assert.equal(c.consumer.ackWait, 30_000);
    assert.equal(c.consumer.maxDeliver, 5);
    assert.equal(c.reopenWindow, 7 * 86_400_000);
    assert.ok(c.queues.some((q) => q.id === 'premium-care' && q.tiers?.includes('premium')));
    for (const rule of [
      'appliance-fault',
      'door-forced',
      'aed-removed',
      'temperature-out-of-range',
      'sensor-offline',
    ])
      assert.ok(c.intents[rule], `intent for ${rule}`);
    assert.ok(Object.isFrozen(c.queues[0]));
  });

  it('the instance defaults to hostname-pid', () => {
    assert.match(loadRouterConfig(file(MINIMAL)).instance, new RegExp(`-${process.pid}$`));
  });

  const bad: [string, string, RegExp][] = [
    ['an unknown key, with its line', MINIMAL + 'colour: blue\n', /^6: colour: unknown key$/],
    [
      'an intent whose skill no queue has',
      MINIMAL + '  E21: { intent: leak, skill: plumbing }\n',
      /^6: intents\.E21\.skill: no queue has skill "plumbing"$/,
    ],
    ['a duration without unit', MINIMAL + 'reopenWindow: 7\n', /^6: reopenWindow: /],
    [
      'a fallback queue that does not exist',
      MINIMAL + 'fallbackQueue: nowhere\n',
      /^6: fallbackQueue: no queue "nowhere"$/,
    ],
    ['no NATS server', MINIMAL.replace(/^nats.*\n/, ''), /nats: /],
    ['a durable name with a dot', MINIMAL + 'consumer: { durable: a.b }\n', /^6: consumer\.durable: /],
    ['broken YAML', 'queues: [\n', /^\d+: /],
  ];
  for (const [name, text, want] of bad) {
    it(`rejects ${name}`, () => {
      const got = problems(text);
      assert.ok(
        got.some((p) => want.test(p)),
        `${want} in ${JSON.stringify(got)}`,
      );
    });
  }

  it('a missing file is a configuration error, not a crash', () => {
    assert.throws(() => loadRouterConfig(join(dir, 'nope.yaml')), ConfigError);
  });
});
