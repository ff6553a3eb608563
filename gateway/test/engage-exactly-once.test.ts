import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import { FakeTwilio } from './support/fake-twilio.js';
import { eventually, GatewayProcess, tempDir } from './support/gateway-process.js';
import { freePort } from './support/ports.js';
import { engageConfig, PASSWORD, PHONES, startCamera } from './support/engage-site.js';

// "Nothing lost, nothing doubled" for people's phones: the gateway process is killed with SIGKILL
// while the provider holds its SMS and call requests (the provider has them, the gateway has not
// recorded it), then while the provider is unreachable. After the restart each person gets the
// SMS and the call exactly once.

describe('engage - exactly once per step across SIGKILL', () => {
  const dir = tempDir('vigie-once-');
  let twilio: FakeTwilio;
  let camera: Awaited<ReturnType<typeof startCamera>>;
  let config: Record<string, unknown>;
  let gw: GatewayProcess;

  const openDoor = async (id: string, open: boolean) => {
    const c = await mqtt.connectAsync(gw.mqttUrl, {
      username: 'sensors',
      password: PASSWORD,
      reconnectPeriod: 0,
    });
    await c.publishAsync(`vigie/t3/door/${id}`, JSON.stringify({ open, ts: Date.now() }), { qos: 1 });
    await c.endAsync();
  };
  const toAmina = (since: number) => ({
    sms: twilio.messages.filter((m) => m.to === PHONES.amina && m.dateCreated >= since),
    calls: twilio.calls.filter((c) => c.to === PHONES.amina && c.dateCreated >= since),
  });
  const restart = async () => {
    gw = new GatewayProcess(dir, config);
    await gw.start();
  };

  before(async () => {
    twilio = await FakeTwilio.start();
    camera = await startCamera();
    const port = await freePort();
    config = await engageConfig(dir, {
      cameraBase: camera.base,
      port,
      twilio,
      channels: (provider) => ({
        sms: { type: 'sms', ...provider, timeout: '2s', backoff: '300ms' },
        voice: { type: 'voice', ...provider, timeout: '2s', backoff: '300ms' },
        // Named by the site's people; no door alert reaches it here.
        email: { type: 'email', host: '127.0.0.1', port: 9, ignoreTLS: true, from: 'vigie@t3.example' },
      }),
      extra: { dataDir: join(dir, 'data') },
    });
    await restart();
  });

  after(async () => {
    await gw?.stop();
    await twilio?.close();
    await camera?.close();
  });

  test('killed while the provider holds the requests: after the restart, no second SMS and no second call', async () => {
    const t0 = Date.now();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let seen = 0;
    let killed: Promise<void> | undefined;
    const off = twilio.onRequest(async (r) => {
      if (r.method !== 'POST' || r.params.get('To') !== PHONES.amina) return;
      // Both creates reached the provider: the power goes before either answer is recorded.
      if (++seen === 2) killed = gw.kill9().then(release);
      await held;
    });
    await openDoor('door-g12', true);
    await eventually('both requests at the provider', () => killed !== undefined, 10_000);
    await killed;
    off();
    assert.equal(toAmina(t0).sms.length, 1);
    assert.equal(toAmina(t0).calls.length, 1);
    await restart();
    const { incidents } = await gw.get('/incidents?rule=door-held-open&device=door-g12');
    const inc = incidents[0];
    // The deliveries were interrupted: the gateway asked the provider and found them.
    const ds = await eventually('both deliveries recorded with the provider ids', async () => {
      const d = (await gw.get(`/incidents/${inc.id}`)).deliveries as { providerId?: string; state: string }[];
      const ok = d.filter((x) => x.providerId && x.state === 'sent');
      return ok.length === 2 ? ok : undefined;
    });
    assert.deepEqual(
      ds.map((d) => d.providerId).sort(),
      [toAmina(t0).sms[0].sid, toAmina(t0).calls[0].sid].sort(),
    );
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(toAmina(t0).sms.length, 1, 'exactly one SMS');
    assert.equal(toAmina(t0).calls.length, 1, 'exactly one call');
    await gw
      .get(`/incidents/${inc.id}`)
      .then((d) =>
        assert.ok(
          d.timeline.some((e: { kind: string; detail: { outcome?: string } }) => e.detail.outcome === 'sent'),
        ),
      );
    await openDoor('door-g12', false);
  });

  test('killed while the provider is unreachable: the alert is not lost, and goes out once after the restart', async () => {
    await twilio.fault('Messages', 'down');
    const t0 = Date.now();
    try {
      await openDoor('door-staff', true);
      // The forced-door incident is committed and its first SMS attempt failed (provider down).
      await eventually('an SMS attempt failed', async () => {
        const { incidents } = await gw.get('/incidents?rule=door-forced&device=door-staff');
        if (!incidents[0]) return undefined;
        const d = await gw.get(`/incidents/${incidents[0].id}`);
        return d.timeline.some((e: { detail: { outcome?: string } }) => e.detail.outcome === 'retry');
      });
      await gw.kill9();
    } finally {
      await twilio.fault('Messages', 'ok');
    }
    await restart();
    await eventually('the SMS sent after the restart', async () => toAmina(t0).sms.length > 0, 15_000);
    await new Promise((r) => setTimeout(r, 1500));
    // door-forced at once; door-held-open (2 s later) may add its own SMS: one per incident.
    const { incidents } = await gw.get('/incidents?device=door-staff');
    const perIncident = incidents.length;
    assert.equal(toAmina(t0).sms.length, perIncident, 'one SMS per incident, none doubled');
  });
});
