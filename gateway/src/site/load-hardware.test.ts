import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSite } from './load.js';

/** A site with GPIO and serial devices; `edit` replaces one numbered line to introduce one problem. */
function site(edit: Record<string, string> = {}): string {
  const lines = [
    'site: plant', // 1
    'lines:', // 2
    '  rs485: { path: /dev/ttyUSB0, protocol: modbus-rtu, baudRate: 19200, timeout: 200ms, poll: 5s }', // 3
    '  probes: { path: /dev/ttyAMA0, protocol: lines, format: regex, regex: "^(?<device>\\\\w+) T=(?<celsius>-?[\\\\d.]+)$", deviceField: device }', // 4
    'devices:', // 5
    '  - id: door-1', // 6
    '    kind: door', // 7
    '    zone: hall', // 8
    '    gpio: { pin: 17, activeLow: true, pull: up, debounce: 30ms }', // 9
    '  - id: aed-1', // 10
    '    kind: aed', // 11
    '    zone: hall', // 12
    '    gpio: { pin: 27, debounce: 0ms, activeValue: false }', // 13
    '  - id: cold-1', // 14
    '    kind: temperature', // 15
    '    zone: kitchen', // 16
    '    line: { id: rs485, unit: 3, registers: [{ field: celsius, table: input, address: 1, scale: 0.1 }] }', // 17
    '  - id: wm-1', // 18
    '    kind: appliance', // 19
    '    zone: laundry', // 20
    '    serial: WM-0042', // 21
    '    line: { id: rs485, unit: 4, registers: [{ field: status, address: 0, map: { "0": ok, "1": fault } }] }', // 22
    '  - id: fridge-1', // 23
    '    kind: temperature', // 24
    '    zone: kitchen', // 25
    '    line: { id: probes, match: F1 }', // 26
    '  - id: fridge-2', // 27
    '    kind: temperature', // 28
    '    zone: kitchen', // 29
    '    line: { id: probes }', // 30
  ];
  for (const [n, text] of Object.entries(edit)) lines[Number(n) - 1] = text;
  return lines.join('\n') + '\n';
}

function problemsOf(text: string): string[] {
  return parseSite('site.yaml', text).problems.map((p) => `${p.line}: ${p.message}`);
}

test('site hardware - GPIO and serial devices load with their defaults', () => {
  const { site: s, problems } = parseSite('site.yaml', site());
  assert.deepEqual(problems, []);
  const door = s!.devices.find((d) => d.id === 'door-1')!;
  assert.deepEqual(door.gpio, {
    pin: 17,
    activeLow: true,
    pull: 'up',
    debounceMs: 30,
    field: 'open',
    activeValue: true,
  });
  // The AED's required boolean is the field; the switch opens when the AED leaves.
  const aed = s!.devices.find((d) => d.id === 'aed-1')!;
  assert.equal(aed.gpio?.field, 'present');
  assert.equal(aed.gpio?.activeValue, false);
  assert.equal(aed.gpio?.debounceMs, 0);
  assert.equal(s!.lines.rs485.timeoutMs, 200);
  assert.equal(s!.lines.rs485.pollMs, 5000);
  assert.equal(s!.lines.rs485.parity, 'none');
  const cold = s!.devices.find((d) => d.id === 'cold-1')!;
  assert.equal(cold.line?.unit, 3);
  assert.equal(cold.line?.pollMs, 5000, "the line's poll period by default");
  assert.equal(cold.line?.registers[0].type, 'int16');
  // The appliance's registry serial number rides with every reading, for the CRM lookup.
  const wm = s!.devices.find((d) => d.id === 'wm-1')!;
  assert.deepEqual(wm.line?.fixed, { serial: 'WM-0042' });
  assert.equal(s!.devices.find((d) => d.id === 'fridge-1')!.line?.match, 'F1');
  assert.equal(s!.devices.find((d) => d.id === 'fridge-2')!.line?.match, 'fridge-2');
});

test('site hardware - wiring mistakes are refused with their line', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ 13: '    gpio: { pin: 17 }' }, /^13: .*pin 17 is already door-1's/],
    [
      { 17: '    line: { id: rs4850, unit: 3, registers: [{ field: celsius, address: 1 }] }' },
      /^17: .*"rs4850" is not a serial line/,
    ],
    [{ 17: '    line: { id: rs485, registers: [{ field: celsius, address: 1 }] }' }, /^17: .*slave address/],
    [
      {
        22: '    line: { id: rs485, unit: 3, registers: [{ field: status, address: 0, map: { "0": ok } }] }',
      },
      /unit 3 on line "rs485" is already cold-1/,
    ],
    [
      { 22: '    line: { id: rs485, unit: 4, registers: [{ field: status, address: 0 }] }' },
      /"status" is a string: map/,
    ],
    [
      { 17: '    line: { id: rs485, unit: 3, registers: [{ field: kelvin, address: 1 }] }' },
      /kind "temperature" has no field "kelvin"/,
    ],
    [{ 9: '    gpio: { pin: 17, field: badge }' }, /^9: .*"badge" is not a boolean field/],
    [{ 15: '    kind: temperature', 17: '    gpio: { pin: 5 }' }, /say which boolean field/],
    [
      {
        4: '  probes: { path: /dev/ttyAMA0, protocol: lines, format: regex, regex: "(?<x", deviceField: device }',
      },
      /^4: .*not a valid regular expression/,
    ],
    [{ 4: '  probes: { path: /dev/ttyAMA0, protocol: lines }' }, /^4: .*2 devices share this text line/],
    [
      { 4: '  probes: { path: /dev/ttyUSB0, protocol: lines, deviceField: device }' },
      /line "rs485" already uses \/dev\/ttyUSB0/,
    ],
    [
      { 3: '  rs485: { path: /dev/ttyUSB0, protocol: modbus-rtu, timeout: 2s, retries: 2, poll: 5s }' },
      /shorter than one poll can take/,
    ],
    [{ 9: '    gpio: { pin: 17, debounce: 20 }' }, /is not a duration/],
    [{ 26: '    line: { id: probes, match: F1, unit: 2 }' }, /unit is for Modbus lines/],
  ];
  for (const [edit, want] of cases) {
    const found = problemsOf(site(edit));
    assert.ok(
      found.some((p) => want.test(p)),
      `${JSON.stringify(edit)}: expected ${want}, got ${JSON.stringify(found)}`,
    );
  }
});
