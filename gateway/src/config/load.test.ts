import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../core/errors.js';
import { loadConfig } from './load.js';

function file(text: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'vigie-cfg-')), 'vigie.yaml');
  writeFileSync(f, text);
  return f;
}

function problems(text: string): string[] {
  try {
    loadConfig({ file: file(text), env: {} });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'VIGIE_ERR_CONFIG_INVALID');
    return err.problems.map((p) => `${p.line}: ${p.message}`);
  }
  return [];
}

test('config - no file runs on the embedded defaults, frozen', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.mqtt.mode, 'embedded');
  assert.equal(c.mqtt.port, 1883);
  assert.equal(c.http.port, 8080);
  assert.equal(c.mqtt.maxPayloadBytes, 65536);
  assert.equal(c.engine.maxClockSkew, 300_000);
  assert.match(c.site, /rules\/examples\/site\.yaml$/);
  assert.ok(Object.isFrozen(c.mqtt));
});

test('config - environment overrides: data dir, admin token, ports', () => {
  const c = loadConfig({
    env: { VIGIE_DATA_DIR: '/tmp/x', VIGIE_ADMIN_TOKEN: 'a'.repeat(20), VIGIE_HTTP_PORT: '9090' },
  });
  assert.equal(c.dataDir, '/tmp/x');
  assert.equal(c.auth.adminToken, 'a'.repeat(20));
  assert.equal(c.http.port, 9090);
});

test('config - a misspelt key, at any depth, is refused with its line instead of being ignored', () => {
  assert.deepEqual(problems('http: { port: 8081 }\nauth:\n  admintoken: abcdefabcdefabcdefabcdef\n'), [
    '3: auth.admintoken: unknown key',
  ]);
  assert.deepEqual(problems('mqtt:\n  maxPayloadByte: 100\n'), ['2: mqtt.maxPayloadByte: unknown key']);
  const hook =
    'channels:\n  hook:\n    type: webhook\n    url: http://127.0.0.1:9/x\n    secret: 0123456789abcdef\n    retries: 3\n';
  assert.deepEqual(problems(hook), ['6: channels.hook.retries: unknown key']);
});

test('config - wrong values are listed together with their lines', () => {
  const p = problems('engine:\n  maxClockSkew: "5 minutes"\nhttp:\n  port: 70000\n');
  assert.equal(p.length, 2);
  assert.match(p[0], /^2: engine\.maxClockSkew: "5 minutes" is not a duration/);
  assert.match(p[1], /^4: http\.port/);
});

const HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$' + Buffer.alloc(32, 7).toString('base64');

test('config - Node-RED is off by default, at /red, with nobody allowed in', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.nodeRed.enabled, false);
  assert.equal(c.nodeRed.path, '/red');
  assert.deepEqual(c.nodeRed.users, []);
});

test('config - Node-RED is never enabled without a way to log in', () => {
  const [p] = problems('nodeRed:\n  enabled: true\n');
  assert.match(p, /^2: nodeRed\.enabled: Node-RED needs at least one user/);
  const viewerOnly = `auth:\n  tokens: [{ name: ci, role: viewer, sha256: "${'a'.repeat(64)}" }]\nnodeRed: { enabled: true }\n`;
  assert.equal(problems(viewerOnly).length, 1);
  const integrator = viewerOnly.replace('viewer', 'integrator');
  assert.deepEqual(problems(integrator), []);
  assert.deepEqual(
    problems(`nodeRed:\n  enabled: true\n  users: [{ username: ana, passwordHash: "${HASH}" }]\n`),
    [],
  );
  const c = loadConfig({
    file: file('nodeRed: { enabled: true }\n'),
    env: { VIGIE_ADMIN_TOKEN: 'b'.repeat(20) },
  });
  assert.equal(c.nodeRed.enabled, true);
});

test('config - Node-RED users need a `vigie hash-password` hash and a path of their own', () => {
  const p = problems(
    `nodeRed:\n  path: /api\n  users:\n    - { username: ana, passwordHash: "secret", permissions: read }\n    - { username: ana, passwordHash: "${HASH}" }\n`,
  );
  assert.equal(p.length, 3, p.join('\n'));
  assert.match(p[0], /^2: nodeRed\.path: the first segment must not be one the gateway uses/);
  assert.match(p[1], /nodeRed\.users\.0\.passwordHash: use the output of `vigie hash-password`/);
  assert.match(p[2], /nodeRed\.users\.1\.username: listed twice/);
  assert.match(problems('nodeRed: { path: "/red/" }\n')[0], /nodeRed\.path: a path like \/red/);
});
