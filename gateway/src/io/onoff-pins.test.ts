import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { GpioConfig } from '../config/schema.js';
import { silentLogger } from '../core/log.js';
import { createOnoffPins, findChip, type RunCommand } from './onoff-pins.js';

// No GPIO here: the onoff path itself cannot run (its reads, writes and edges are covered through
// FakePins by the source and relay tests). What runs anywhere is tested: finding the chip's base
// in a sysfs tree, the pull command, and refusing cleanly where there is no GPIO.

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function sysfs(chips: Record<number, { label: string; ngpio: number }>): string {
  const root = mkdtempSync(join(tmpdir(), 'vigie-sysfs-'));
  dirs.push(root);
  writeFileSync(join(root, 'export'), '');
  for (const [base, c] of Object.entries(chips)) {
    const dir = join(root, `gpiochip${base}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'base'), `${base}\n`);
    writeFileSync(join(dir, 'label'), `${c.label}\n`);
    writeFileSync(join(dir, 'ngpio'), `${c.ngpio}\n`);
  }
  return root;
}

const cfg = (over: Partial<GpioConfig> = {}): GpioConfig => ({
  chipBase: 'auto',
  pullCommand: 'pinctrl',
  resync: 5000,
  ...over,
});

test('chip base - a Pi 4 on kernel 6.6 numbers its header from 512', () => {
  const root = sysfs({
    512: { label: 'pinctrl-bcm2711', ngpio: 58 },
    570: { label: 'raspberrypi-exp-gpio', ngpio: 8 },
  });
  assert.deepEqual(findChip(root), { base: 512, label: 'pinctrl-bcm2711', ngpio: 58 });
});

test('chip base - a Pi 5 header is on the RP1 chip, not the lowest one', () => {
  const root = sysfs({
    512: { label: 'gpio-brcmstb@107d508500', ngpio: 32 },
    544: { label: 'gpio-brcmstb@107d517c00', ngpio: 15 },
    571: { label: 'pinctrl-rp1', ngpio: 54 },
  });
  assert.equal((findChip(root) as { base: number }).base, 571);
});

test('chip base - an older Pi kernel numbers from 0', () => {
  const root = sysfs({
    0: { label: 'pinctrl-bcm2835', ngpio: 54 },
    504: { label: 'brcmvirt-gpio', ngpio: 2 },
  });
  assert.equal((findChip(root) as { base: number }).base, 0);
});

test('chip base - another board takes the lowest base', () => {
  const root = sysfs({ 412: { label: 'tegra-gpio', ngpio: 64 }, 300: { label: 'max77620-gpio', ngpio: 8 } });
  assert.deepEqual(findChip(root), { base: 300, label: 'max77620-gpio', ngpio: 8 });
});

test('chip base - no chip, or no sysfs at all, is an error that says where it looked', () => {
  const empty = sysfs({});
  assert.match((findChip(empty) as { error: string }).error, /no GPIO chip under .*vigie-sysfs-/);
  assert.match((findChip(join(empty, 'nope')) as { error: string }).error, /cannot be read/);
});

test('factory - without GPIO it is unavailable, says why, and opens nothing', { skip: hasGpio() }, () => {
  const pins = createOnoffPins(cfg(), { logger: silentLogger });
  assert.equal(pins.available, false);
  assert.match(pins.unavailableReason ?? '', /\/sys\/class\/gpio\/export/);
  assert.throws(() => pins.input(17), /no GPIO/);
  assert.throws(() => pins.output(18), /no GPIO/);
});

function recorder(answer: Awaited<ReturnType<RunCommand>> | Error): RunCommand & { calls: string[][] } {
  const calls: string[][] = [];
  const run = (cmd: string, args: string[]) => {
    calls.push([cmd, ...args]);
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  };
  return Object.assign(run, { calls });
}

test('pull - pinctrl and raspi-gpio are asked for the BCM line, not the sysfs number', async () => {
  const ok = recorder({ code: 0, stderr: '' });
  const pins = createOnoffPins(cfg(), { logger: silentLogger, runCommand: ok });
  assert.deepEqual(await pins.pull(17, 'up'), { ok: true });
  assert.deepEqual(await pins.pull(27, 'none'), { ok: true });
  const old = createOnoffPins(cfg({ pullCommand: 'raspi-gpio' }), { logger: silentLogger, runCommand: ok });
  assert.deepEqual(await old.pull(4, 'down'), { ok: true });
  assert.deepEqual(ok.calls, [
    ['pinctrl', 'set', '17', 'ip', 'pu'],
    ['pinctrl', 'set', '27', 'ip', 'pn'],
    ['raspi-gpio', 'set', '4', 'ip', 'pd'],
  ]);
});

test('pull - a failing or missing command is reported, not thrown', async () => {
  const failing = recorder({ code: 1, stderr: 'Unknown GPIO "99"\n' });
  const pins = createOnoffPins(cfg(), { logger: silentLogger, runCommand: failing });
  assert.deepEqual(await pins.pull(99, 'up'), { ok: false, reason: 'pinctrl failed (1): Unknown GPIO "99"' });
  const missing = recorder(Object.assign(new Error('spawn pinctrl ENOENT'), { code: 'ENOENT' }));
  const none = createOnoffPins(cfg(), { logger: silentLogger, runCommand: missing });
  assert.deepEqual(await none.pull(17, 'up'), { ok: false, reason: 'pinctrl: not installed' });
});

test('pull - pullCommand none runs nothing', async () => {
  const run = recorder({ code: 0, stderr: '' });
  const pins = createOnoffPins(cfg({ pullCommand: 'none' }), { logger: silentLogger, runCommand: run });
  assert.deepEqual(await pins.pull(17, 'up'), { ok: false, reason: 'pullCommand is none' });
  assert.equal(run.calls.length, 0);
});

test('pull - the real command runner, with a pinctrl on PATH and without', async () => {
  const bin = mkdtempSync(join(tmpdir(), 'vigie-bin-'));
  dirs.push(bin);
  // Answers like pinctrl: silent on success, a message and a non-zero status otherwise.
  const script = '#!/bin/sh\n[ "$1 $2 $3 $4" = "set 17 ip pd" ] || { echo "bad gpio $2" >&2; exit 2; }\n';
  writeFileSync(join(bin, 'pinctrl'), script, { mode: 0o755 });
  const path = process.env.PATH;
  try {
    process.env.PATH = bin;
    const pins = createOnoffPins(cfg(), { logger: silentLogger });
    assert.deepEqual(await pins.pull(17, 'down'), { ok: true });
    assert.deepEqual(await pins.pull(5, 'up'), { ok: false, reason: 'pinctrl failed (2): bad gpio 5' });
    const old = createOnoffPins(cfg({ pullCommand: 'raspi-gpio' }), { logger: silentLogger });
    assert.deepEqual(await old.pull(17, 'up'), { ok: false, reason: 'raspi-gpio: not installed' });
  } finally {
    process.env.PATH = path;
  }
});

function hasGpio(): boolean {
  return existsSync('/sys/class/gpio/export');
}
