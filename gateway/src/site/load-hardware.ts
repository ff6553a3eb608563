import { parseDuration } from '../../../rules/src/duration.js';
import type { KindSpec } from './kinds.js';
import type { GpioInput, ModbusRegister, SerialLine, LineSource } from './model.js';
import type { SiteFile } from './schema.js';

// The devices the gateway reads itself (GPIO lines, serial lines): what the site file says, checked
// against the device's kind and the other devices, so a wiring mistake is refused with its line
// at load time instead of surfacing as a silent sensor at 3 a.m.

type Path = readonly (string | number)[];
type Report = (path: Path, message: string, onKey?: boolean) => void;
type FileDevice = SiteFile['devices'][number];

/** A duration that may be 0 (a debounce): the site loader's own helper refuses 0. */
function ms(value: string | number, path: Path, report: Report, allowZero = false): number | undefined {
  const v = parseDuration(value);
  if (v === undefined) report(path, `"${value}" is not a duration (use 50ms, 30s, 2m)`);
  else if (v < 0 || (v === 0 && !allowZero)) report(path, `"${value}" must be longer than 0`);
  return v !== undefined && (v > 0 || (allowZero && v === 0)) ? v : undefined;
}

export function buildGpio(
  d: FileDevice,
  kind: KindSpec | undefined,
  path: Path,
  report: Report,
): GpioInput | undefined {
  const g = d.gpio;
  if (!g) return undefined;
  const at = [...path, 'gpio'];
  if (d.source) report(at, 'a device is read from GPIO or from an MQTT source, not both', true);
  if (d.line) report(at, 'a device is read from GPIO or from a serial line, not both', true);
  const debounceMs = ms(g.debounce, [...at, 'debounce'], report, true) ?? 0;
  if (debounceMs > 10_000) report([...at, 'debounce'], 'a debounce longer than 10s would hide real changes');
  let field = g.field;
  if (kind) {
    const booleans = Object.entries(kind.fields).filter(([, f]) => f.type === 'boolean');
    if (field === undefined) {
      const required = booleans.filter(([, f]) => f.required);
      if (required.length === 1) field = required[0][0];
      else report(at, `say which boolean field of kind "${d.kind}" the line drives (gpio.field)`);
    } else if (!kind.fields[field]) {
      report([...at, 'field'], `kind "${d.kind}" has no field "${field}"`);
    } else if (kind.fields[field].type !== 'boolean') {
      report(
        [...at, 'field'],
        `"${field}" is not a boolean field of kind "${d.kind}": a GPIO line is on or off`,
      );
    }
    // Other required fields could never be filled from one line: the readings would all be refused.
    for (const [name, f] of Object.entries(kind.fields)) {
      if (f.required && name !== field && field !== undefined)
        report(at, `kind "${d.kind}" requires "${name}", which a GPIO line cannot provide`, true);
    }
  }
  return {
    pin: g.pin,
    activeLow: g.activeLow,
    pull: g.pull,
    debounceMs,
    field: field ?? '',
    activeValue: g.activeValue,
  };
}

export function buildSerial(
  d: FileDevice,
  kind: KindSpec | undefined,
  lines: Readonly<Record<string, SerialLine>>,
  path: Path,
  report: Report,
): LineSource | undefined {
  const s = d.line;
  if (!s) return undefined;
  const at = [...path, 'line'];
  if (d.source) report(at, 'a device is read from a serial line or from an MQTT source, not both', true);
  const line = Object.hasOwn(lines, s.id) ? lines[s.id] : undefined;
  if (!line) {
    report(
      [...at, 'id'],
      `"${s.id}" is not a serial line of the site (known: ${Object.keys(lines).join(', ') || 'none'})`,
    );
  }
  const registers: ModbusRegister[] = s.registers.map((r) => ({ ...r }));
  let pollMs: number | undefined;
  if (s.poll !== undefined) pollMs = ms(s.poll, [...at, 'poll'], report);
  if (line?.protocol === 'modbus-rtu') {
    if (s.unit === undefined)
      report(at, 'a Modbus device needs its slave address (serial.unit, 1 to 247)', true);
    if (registers.length === 0)
      report(at, 'a Modbus device needs at least one register to read (serial.registers)', true);
    if (s.match !== undefined)
      report([...at, 'match'], 'match is for text lines; a Modbus device is found by its unit');
    pollMs ??= line.pollMs;
    // A poll period shorter than the worst case of one poll would queue requests for ever.
    const worst = line.timeoutMs * (line.retries + 1) * requestsFor(registers);
    if (pollMs < worst)
      report([...at, 'poll'], `${pollMs}ms is shorter than one poll can take on this line (${worst}ms)`);
  } else if (line?.protocol === 'lines') {
    if (s.unit !== undefined) report([...at, 'unit'], 'unit is for Modbus lines');
    if (registers.length > 0) report([...at, 'registers'], 'registers are for Modbus lines');
    if (s.poll !== undefined)
      report([...at, 'poll'], 'a text line is not polled: its sensor talks on its own');
  }
  if (kind) {
    registers.forEach((r, j) => {
      if (r.type.endsWith('32') && r.address > 65534)
        report(
          [...at, 'registers', j, 'address'],
          'a 32-bit value needs two registers: the last address is 65534',
        );
      const f = kind.fields[r.field];
      if (!f) report([...at, 'registers', j, 'field'], `kind "${d.kind}" has no field "${r.field}"`);
      else if (f.type !== 'number' && !r.map)
        report(
          [...at, 'registers', j, 'map'],
          `"${r.field}" is a ${f.type}: map the register's values to it`,
        );
    });
    for (const name of Object.keys(s.fixed)) {
      if (!kind.fields[name]) report([...at, 'fixed', name], `kind "${d.kind}" has no field "${name}"`, true);
    }
  }
  const fixed: Record<string, string | number | boolean> = { ...s.fixed };
  // An appliance's serial number is in the registry already: readings carry it for the CRM lookup.
  if (kind?.fields.serial && fixed.serial === undefined && d.serial !== undefined) fixed.serial = d.serial;
  return {
    line: s.id,
    match: s.match ?? d.id,
    ...(s.unit !== undefined ? { unit: s.unit } : {}),
    ...(pollMs !== undefined && line?.protocol === 'modbus-rtu' ? { pollMs } : {}),
    registers,
    fixed,
  };
}

/** About how many requests a poll takes: registers close together are read in one (125 at most). */
function requestsFor(registers: readonly ModbusRegister[]): number {
  let n = 0;
  for (const table of ['holding', 'input'] as const) {
    const addrs = registers
      .filter((r) => r.table === table)
      .map((r) => r.address)
      .sort((a, b) => a - b);
    let start = -Infinity;
    let last = -Infinity;
    for (const a of addrs) {
      if (a - last > 16 || a + 2 - start > 125) {
        n++;
        start = a;
      }
      last = a + 1;
    }
  }
  return Math.max(1, n);
}

export function buildLines(f: SiteFile, report: Report): Record<string, SerialLine> {
  const out: Record<string, SerialLine> = {};
  const paths = new Map<string, string>();
  for (const [id, l] of Object.entries(f.lines)) {
    const at = ['lines', id];
    if (paths.has(l.path)) report([...at, 'path'], `line "${paths.get(l.path)}" already uses ${l.path}`);
    paths.set(l.path, id);
    if (l.protocol === 'lines' && l.format === 'regex') {
      if (!l.regex) report(at, 'format regex needs the regex (named groups are the fields)', true);
      else {
        try {
          new RegExp(l.regex);
          if (!/\(\?<[A-Za-z_]\w*>/.test(l.regex))
            report(
              [...at, 'regex'],
              'the regex has no named group: name the fields, as in (?<celsius>-?\\d+)',
            );
        } catch (err) {
          report([...at, 'regex'], `not a valid regular expression: ${(err as Error).message}`);
        }
      }
    }
    if (l.protocol === 'modbus-rtu' && l.format === 'regex')
      report([...at, 'format'], 'format is for text lines');
    out[id] = {
      id,
      path: l.path,
      baudRate: l.baudRate,
      dataBits: l.dataBits,
      parity: l.parity,
      stopBits: l.stopBits,
      protocol: l.protocol,
      delimiter: l.delimiter,
      format: l.format,
      ...(l.regex ? { regex: l.regex } : {}),
      ...(l.deviceField ? { deviceField: l.deviceField } : {}),
      maxLineBytes: l.maxLineBytes,
      timeoutMs: ms(l.timeout, [...at, 'timeout'], report) ?? 500,
      retries: l.retries,
      offlineAfter: l.offlineAfter,
      pollMs: ms(l.poll, [...at, 'poll'], report) ?? 10_000,
    };
  }
  return out;
}

/** Across devices: one device per GPIO pin, per Modbus unit and per text-line match on a line. */
export function checkHardwareUnique(
  devices: readonly FileDevice[],
  lines: Readonly<Record<string, SerialLine>>,
  report: Report,
): void {
  const pins = new Map<number, string>();
  const onLine = new Map<string, string>();
  const linesShared = new Map<string, number>();
  devices.forEach((d, i) => {
    if (d.gpio) {
      const other = pins.get(d.gpio.pin);
      if (other) report(['devices', i, 'gpio', 'pin'], `pin ${d.gpio.pin} is already ${other}'s`);
      else pins.set(d.gpio.pin, d.id);
    }
    if (d.line) {
      const line = Object.hasOwn(lines, d.line.id) ? lines[d.line.id] : undefined;
      if (!line) return;
      const key =
        line.protocol === 'modbus-rtu'
          ? `${line.id}\u0000unit ${d.line.unit}`
          : `${line.id}\u0000${d.line.match ?? d.id}`;
      const other = onLine.get(key);
      if (other)
        report(
          ['devices', i, 'line'],
          line.protocol === 'modbus-rtu'
            ? `unit ${d.line.unit} on line "${line.id}" is already ${other}`
            : `line "${line.id}" already gives "${d.line.match ?? d.id}" to ${other}`,
        );
      else onLine.set(key, d.id);
      linesShared.set(line.id, (linesShared.get(line.id) ?? 0) + 1);
    }
  });
  for (const [id, n] of linesShared) {
    const line = lines[id];
    if (line.protocol === 'lines' && n > 1 && !line.deviceField)
      report(
        ['lines', id],
        `${n} devices share this text line: say which field names the device (deviceField)`,
        true,
      );
  }
}
