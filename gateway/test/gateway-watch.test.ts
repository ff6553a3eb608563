import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { connect, type NatsConnection } from 'nats';
import { eventually, GatewayProcess, tempDir } from './support/gateway-process.js';
import { Mosquitto } from './support/mosquitto.js';
import { NatsServer } from './support/nats-server.js';

// The gateway watching itself, as a real process: the systemd protocol on a real unix datagram
// socket (what systemd listens on), the heartbeat on NATS, and its own trouble (the broker gone,
// the disk, a clock behind its last run) raised as incidents through the normal path.

interface DgramSocket {
  bind(path: string): void;
  on(event: 'message', cb: (msg: Buffer) => void): void;
  close(): void;
}
const unixDgram = createRequire(import.meta.url)('unix-dgram') as {
  createSocket(type: 'unix_dgram'): DgramSocket;
};

let broker: Mosquitto;
let nats: NatsServer;
let nc: NatsConnection;
let socket: DgramSocket;
const notices: { at: number; text: string }[] = [];
let gw: GatewayProcess;
const dir = tempDir('vigie-watch-');

const gatewayIncidents = async (rule: string) =>
  ((await gw.get('/incidents')).incidents as any[]).filter((i) => i.ruleId === rule);

before(async () => {
  broker = await Mosquitto.start();
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  socket = unixDgram.createSocket('unix_dgram');
  socket.on('message', (msg) => notices.push({ at: Date.now(), text: msg.toString() }));
  socket.bind(join(dir, 'notify.sock'));
  gw = new GatewayProcess(
    dir,
    {
      mqtt: { mode: 'external', url: broker.url, clientId: 'vigie-watch-test' },
      uplink: { servers: [nats.url] },
      watch: {
        heartbeat: '500ms',
        interval: '250ms',
        brokerDown: '1s',
        // Every disk is below 100 % free: the disk check fires on any machine.
        disk: { minFreePercent: 100 },
        notify: ['team:maintenance'],
        via: ['console'],
      },
    },
    { NOTIFY_SOCKET: join(dir, 'notify.sock'), WATCHDOG_USEC: '1000000' },
  );
  await gw.start();
});

after(async () => {
  await gw?.stop();
  socket?.close();
  await nc?.close();
  await nats?.dispose();
  await broker?.stop();
});

test('watch - systemd hears READY, then watchdog pings that stop while the gateway is frozen', async () => {
  await eventually('READY=1', () => notices.some((n) => n.text.split('\n').includes('READY=1')));
  await eventually('two pings', () => notices.filter((n) => n.text === 'WATCHDOG=1').length >= 2, 5000);
  // A hung gateway (SIGSTOP freezes it like an endless loop would): the pings stop, so systemd
  // would restart it after WatchdogSec.
  gw.signalOnly('SIGSTOP');
  const frozenAt = Date.now();
  await new Promise((r) => setTimeout(r, 1500));
  gw.signalOnly('SIGCONT');
  const during = notices.filter(
    (n) => n.text === 'WATCHDOG=1' && n.at > frozenAt + 100 && n.at < frozenAt + 1500,
  );
  assert.deepEqual(during, [], 'no ping while frozen');
  await eventually('pings again', () =>
    notices.some((n) => n.text === 'WATCHDOG=1' && n.at > frozenAt + 1500),
  );
});

test('watch - the heartbeat on NATS says who, how many, and what is wrong', async () => {
  const sub = nc.subscribe('vigie.airport.gateway.heartbeat', { max: 2 });
  const beats: any[] = [];
  for await (const m of sub) beats.push(JSON.parse(new TextDecoder().decode(m.data)));
  assert.equal(beats[0].site, 'airport');
  assert.equal(beats[0].intervalMs, 500);
  assert.equal(beats[1].seq, beats[0].seq + 1);
  assert.ok(beats[1].rssBytes > 10_000_000);
  assert.ok(beats[1].problems.includes('disk-low'), JSON.stringify(beats[1].problems));
});

test('watch - the disk check raises its incident through the normal path', async () => {
  const [disk] = await eventually('the disk-low incident', async () => {
    const l = await gatewayIncidents('gateway-disk-low');
    return l.length > 0 && l;
  });
  assert.equal(disk.deviceId, 'gateway');
  assert.match(disk.reason, /free/);
  // Notified like any incident: the maintenance team on the console.
  const detail = await gw.get(`/incidents/${disk.id}`);
  assert.ok(
    detail.deliveries.some((d: any) => d.channel === 'console' && d.recipient === 'team:maintenance'),
  );
});

test('watch - the broker going away is an incident, and its return clears it', async () => {
  await broker.stop();
  const [down] = await eventually(
    'the broker-down incident',
    async () => {
      const l = (await gatewayIncidents('gateway-broker-down')).filter((i) => i.state === 'open');
      return l.length > 0 && l;
    },
    10_000,
  );
  assert.equal(down.severity, 'critical');
  const ready = await fetch(`http://127.0.0.1:${gw.httpPort}/readyz`);
  assert.equal(ready.status, 503);
  assert.ok(((await ready.json()) as any).problems.includes('broker-down'));
  await broker.restart();
  await eventually(
    'the broker-down incident cleared',
    async () => (await gatewayIncidents('gateway-broker-down')).every((i) => i.state !== 'open'),
    20_000,
  );
});

test('watch - a clock earlier than the last run (a Pi booting before NTP) is raised at start', async () => {
  await gw.stop();
  const db = new Database(join(dir, 'data', 'vigie.db'));
  db.prepare("UPDATE meta SET value = ? WHERE key = 'watch.last_wall'").run(String(Date.now() + 3_600_000));
  db.close();
  await gw.start();
  const [behind] = await eventually('the clock-behind incident', async () => {
    const l = (await gatewayIncidents('gateway-clock-behind')).filter((i) => i.state === 'open');
    return l.length > 0 && l;
  });
  assert.match(behind.reason, /earlier|behind/i);
});
