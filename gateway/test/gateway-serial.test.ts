import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { LineSensor } from '../../firmware-sim/src/serial/line-sensor.js';
import { ModbusSlave } from '../../firmware-sim/src/serial/modbus-slave.js';
import { eventually, GatewayProcess, tempDir } from './support/gateway-process.js';
import { PtyPair } from './support/pty-pair.js';

// The gateway as a real process reading two serial lines through the real serialport code: an
// RS-485 bus with Modbus RTU slaves (a cold-room probe, a washing machine's controller) and a
// text line where fridge probes print JSON. socat pty pairs stand in for the cables, the
// firmware-sim emulators for the devices.

const RULES = `
rule: cold-room-warm
name: Cold room too warm
severity: major
listen:
  devices: { ids: [cold-room] }
  when:
    threshold: { field: celsius, above: 8, hysteresis: 0.5 }
engage:
  message: '{device.name}: {values.celsius} °C'
  steps:
    - notify: [team:kitchen]
---
rule: washer-fault
name: Washer fault
severity: minor
listen:
  devices: { kind: appliance }
  when:
    state: { status: fault }
engage:
  message: '{device.name}: {values.code}'
  steps:
    - notify: [team:kitchen]
---
rule: probe-offline
name: Probe offline
severity: major
listen:
  devices: all
  when:
    status: offline
engage:
  message: '{device.name} offline'
  steps:
    - notify: [team:kitchen]
`;

let rs485: PtyPair;
let probes: PtyPair;
let slave: ModbusSlave;
let sensor: LineSensor;
let gw: GatewayProcess;

before(async () => {
  rs485 = await PtyPair.start();
  probes = await PtyPair.start();
  slave = await ModbusSlave.open(rs485.emulatorPath, 19200);
  sensor = await LineSensor.open(probes.emulatorPath, { settings: { baudRate: 115200 } });
  // 4.5 °C; the washer idle (status 0, no code).
  slave.unit(3).set('input', 1, 45);
  slave.unit(4).set('holding', 0, 0, 0);
  const dir = tempDir('vigie-serial-');
  mkdirSync(join(dir, 'rules'));
  writeFileSync(join(dir, 'rules', 'kitchen.yaml'), RULES);
  writeFileSync(
    join(dir, 'site.yaml'),
    stringify({
      site: 'kitchen',
      people: [{ id: 'chef', name: 'Chef' }],
      teams: [{ id: 'kitchen', name: 'Kitchen', members: ['chef'] }],
      lines: {
        rs485: {
          path: rs485.modemPath,
          protocol: 'modbus-rtu',
          baudRate: 19200,
          timeout: '150ms',
          retries: 1,
          offlineAfter: 2,
          poll: '400ms',
        },
        probes: { path: probes.modemPath, protocol: 'lines', baudRate: 115200, deviceField: 'id' },
      },
      devices: [
        {
          id: 'cold-room',
          kind: 'temperature',
          name: 'Cold room',
          zone: 'kitchen',
          line: {
            id: 'rs485',
            unit: 3,
            registers: [{ field: 'celsius', table: 'input', address: 1, scale: 0.1 }],
          },
        },
        {
          id: 'washer',
          kind: 'appliance',
          name: 'Washer',
          zone: 'laundry',
          serial: 'WM-0042',
          line: {
            id: 'rs485',
            unit: 4,
            registers: [
              { field: 'status', address: 0, map: { '0': 'ok', '1': 'fault' } },
              { field: 'code', address: 1, map: { '0': '', '21': 'E21' } },
            ],
          },
        },
        {
          id: 'fridge-1',
          kind: 'temperature',
          name: 'Fridge 1',
          zone: 'kitchen',
          line: { id: 'probes', match: 'F1' },
        },
      ],
    }),
  );
  gw = new GatewayProcess(dir, { site: join(dir, 'site.yaml'), rules: join(dir, 'rules') });
  await gw.start();
});

after(async () => {
  await gw?.stop();
  await slave?.close();
  await sensor?.close();
  await rs485?.stop();
  await probes?.stop();
});

const device = async (id: string) => ((await gw.get('/devices')).devices as any[]).find((d) => d.id === id);
const openIncidents = async (rule: string) =>
  ((await gw.get('/incidents')).incidents as any[]).filter((i) => i.ruleId === rule && i.state === 'open');

test('serial - Modbus registers become readings, and a reading out of range opens its incident', async () => {
  await eventually(
    'the probe read over Modbus',
    async () => (await device('cold-room'))?.values.celsius === 4.5,
  );
  await eventually(
    'the washer read over Modbus',
    async () => (await device('washer'))?.values.status === 'ok',
  );
  assert.deepEqual(await openIncidents('cold-room-warm'), []);
  slave.unit(3).set('input', 1, 93);
  const [warm] = await eventually('the cold-room incident', async () => {
    const l = await openIncidents('cold-room-warm');
    return l.length > 0 && l;
  });
  assert.equal(warm.values.celsius, 9.3);
  // The washer's controller reports a fault: its code mapped, its registry serial carried along.
  slave.unit(4).set('holding', 0, 1, 21);
  const [fault] = await eventually('the washer incident', async () => {
    const l = await openIncidents('washer-fault');
    return l.length > 0 && l;
  });
  assert.equal(fault.values.code, 'E21');
  assert.equal(fault.values.serial, 'WM-0042');
});

test('serial - a Modbus slave that stops answering goes offline, the others keep being read', async () => {
  slave.unit(3).faults.silent = true;
  const [off] = await eventually(
    'the probe offline',
    async () => {
      const l = (await openIncidents('probe-offline')).filter((i) => i.deviceId === 'cold-room');
      return l.length > 0 && l;
    },
    10_000,
  );
  assert.equal(off.deviceId, 'cold-room');
  slave.unit(4).set('holding', 0, 0, 0);
  await eventually('the washer still read', async () => (await device('washer')).values.status === 'ok');
  slave.unit(3).heal();
  await eventually(
    'the probe back',
    async () => (await openIncidents('probe-offline')).every((i) => i.deviceId !== 'cold-room'),
    10_000,
  );
});

test('serial - text lines: good records are read, noise is counted and does not stop the line', async () => {
  await sensor.send('{"id":"F1","celsius":3.2}');
  await eventually('the fridge read', async () => (await device('fridge-1'))?.values.celsius === 3.2);
  await sensor.raw(Buffer.from([0x00, 0xff, 0xfe, 0x0a]));
  await sensor.send('{"id":"F9","celsius":1}');
  await sensor.send('{"id":"F1","celsius":3.6}');
  await eventually(
    'the next good record read',
    async () => (await device('fridge-1')).values.celsius === 3.6,
  );
  const metrics = await gw.metrics();
  assert.match(metrics, /vigie_serial_records_total\{line="probes",result="garbage"\} [1-9]/);
  assert.match(metrics, /vigie_serial_records_total\{line="probes",result="unknown_device"\} 1/);
});
