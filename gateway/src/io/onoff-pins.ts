import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { GpioConfig } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import type { InputPin, OutputPin, PinFactory } from './gpio.js';

// The real GPIO lines, through `onoff` (the kernel's sysfs GPIO interface). This file cannot run
// its onoff path on a machine without GPIO (CI, a PC): its tests cover what can run anywhere (chip
// detection on a fake sysfs tree, the pull command); the line logic is tested with FakePins.

type Onoff = typeof import('onoff');
export type RunCommand = (cmd: string, args: string[]) => Promise<{ code: number | null; stderr: string }>;

const SYSFS_GPIO = '/sys/class/gpio';
/** The chip behind the 40-pin header: Pi 1-3 and Zero, Pi 4, Pi 5 (the RP1 south bridge). */
const PI_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'];
const PULL_TIMEOUT_MS = 5000;

export interface Chip {
  base: number;
  label: string;
  ngpio: number;
}

/**
 * Where line 0 of the main GPIO chip sits in sysfs numbering. Kernels from 6.6 number chips from
 * 512, so BCM GPIO17 is sysfs 529 there and 17 before: reading the base keeps site files in BCM
 * numbers on both.
 */
export function findChip(root = SYSFS_GPIO): Chip | { error: string } {
  let names: string[];
  try {
    names = readdirSync(root).filter((n) => n.startsWith('gpiochip'));
  } catch (err) {
    return { error: `${root} cannot be read (${(err as Error).message})` };
  }
  const chips: Chip[] = [];
  for (const name of names) {
    try {
      const read = (f: string) => readFileSync(join(root, name, f), 'utf8').trim();
      const base = Number(read('base'));
      const ngpio = Number(read('ngpio'));
      if (Number.isInteger(base) && Number.isInteger(ngpio))
        chips.push({ base, ngpio, label: read('label') });
    } catch {
      // A chip we cannot read is one we could not use either.
    }
  }
  if (chips.length === 0) return { error: `no GPIO chip under ${root}` };
  for (const label of PI_LABELS) {
    const pi = chips.find((c) => c.label === label);
    if (pi) return pi;
  }
  return chips.reduce((a, b) => (b.base < a.base ? b : a));
}

const runCommand: RunCommand = (cmd, args) =>
  new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: PULL_TIMEOUT_MS }, (err, _stdout, stderr) => {
      if (!err) return resolve({ code: 0, stderr });
      // A string code is a spawn failure (ENOENT: the command is not installed).
      if (typeof err.code === 'string') return reject(err);
      const why = err.killed ? `no answer after ${PULL_TIMEOUT_MS} ms` : stderr;
      resolve({ code: typeof err.code === 'number' ? err.code : null, stderr: why });
    });
  });

const PULL_ARG = { up: 'pu', down: 'pd', none: 'pn' } as const;

export function createOnoffPins(
  cfg: GpioConfig,
  deps: { logger: Logger; sysfsRoot?: string; runCommand?: RunCommand },
): PinFactory {
  const run = deps.runCommand ?? runCommand;
  const found = open(cfg, deps.sysfsRoot ?? SYSFS_GPIO);
  const unavailableReason = 'error' in found ? found.error : undefined;
  if ('chip' in found) deps.logger.debug('GPIO chip found', { ...found.chip });

  const gpio = (line: number, direction: 'in' | 'out') => {
    if ('error' in found) throw new Error(`no GPIO: ${found.error}`);
    const { Gpio, chip } = found;
    if (chip.ngpio > 0 && line >= chip.ngpio) {
      throw new Error(`line ${line} is beyond the ${chip.ngpio} lines of ${chip.label || 'the GPIO chip'}`);
    }
    return direction === 'in' ? new Gpio(chip.base + line, 'in', 'both') : new Gpio(chip.base + line, 'out');
  };

  return {
    available: unavailableReason === undefined,
    unavailableReason,
    input(line: number): InputPin {
      // Active-low and debounce stay out of onoff: the source applies them, the same way whatever
      // the factory, so the tests with the fake cover them.
      const g = gpio(line, 'in');
      return {
        read: () => g.read(),
        watch: (cb) => g.watch(cb),
        unwatchAll: () => g.unwatchAll(),
        close: () => g.unexport(),
      };
    },
    output(line: number): OutputPin {
      const g = gpio(line, 'out');
      return { write: (level) => g.write(level), close: () => g.unexport() };
    },
    async pull(line, pull) {
      if (cfg.pullCommand === 'none') return { ok: false, reason: 'pullCommand is none' };
      const cmd = cfg.pullCommand;
      try {
        const r = await run(cmd, ['set', String(line), 'ip', PULL_ARG[pull]]);
        if (r.code === 0) return { ok: true };
        return {
          ok: false,
          reason: `${cmd} failed (${r.code ?? 'killed'}): ${r.stderr.trim() || 'no output'}`,
        };
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        return { ok: false, reason: `${cmd}: ${e.code === 'ENOENT' ? 'not installed' : e.message}` };
      }
    },
  };
}

function open(cfg: GpioConfig, root: string): { Gpio: Onoff['Gpio']; chip: Chip } | { error: string } {
  let Gpio: Onoff['Gpio'];
  try {
    // Loaded on demand: onoff needs the native epoll addon, which a build without GPIO may lack.
    Gpio = (createRequire(import.meta.url)('onoff') as Onoff).Gpio;
  } catch (err) {
    return { error: `onoff cannot be loaded: ${(err as Error).message}` };
  }
  if (!Gpio.accessible) {
    return {
      error: `${SYSFS_GPIO}/export cannot be written (no GPIO here, or the user is not in the gpio group)`,
    };
  }
  const chip = cfg.chipBase === 'auto' ? findChip(root) : { base: cfg.chipBase, label: '', ngpio: 0 };
  return 'error' in chip ? chip : { Gpio, chip };
}
