// Modbus RTU framing for the two read functions (Modbus Application Protocol V1.1b3 §6.3, §6.4;
// Modbus over Serial Line V1.02 §2.5.1): [unit][function][data...][CRC lo][CRC hi]. Pure code, so
// the master can run it on every chunk it receives.

/** 03 Read Holding Registers, 04 Read Input Registers. */
export type ReadFunction = 3 | 4;

/** Application Protocol §7: the codes a slave answers with instead of data. */
export const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'slave device failure',
  5: 'acknowledge',
  6: 'slave device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

/** §6.3: at most 125 registers fit one answer (250 data bytes in a 256-byte RTU frame). */
export const MAX_READ_COUNT = 125;

export function exceptionName(code: number): string {
  return EXCEPTION_NAMES[code] ?? `exception ${code}`;
}

/** CRC-16/MODBUS (reflected polynomial 0xA001, initial 0xFFFF), Serial Line §6.2.2. */
export function crc16(data: Uint8Array, start = 0, end = data.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) {
    crc ^= data[i];
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** `body` followed by its CRC, low byte first (the one field of a Modbus frame sent little-endian). */
export function withCrc(body: Uint8Array): Buffer {
  const out = Buffer.alloc(body.length + 2);
  out.set(body);
  out.writeUInt16LE(crc16(body), body.length);
  return out;
}

function crcOk(buf: Uint8Array, start: number, length: number): boolean {
  const end = start + length;
  return crc16(buf, start, end - 2) === (buf[end - 2] | (buf[end - 1] << 8));
}

/** The request for `count` registers from `address` of slave `unit`. */
export function readRequest(unit: number, fn: ReadFunction, address: number, count: number): Buffer {
  if (!Number.isInteger(unit) || unit < 1 || unit > 247) throw new RangeError(`unit ${unit} is not 1..247`);
  if (!Number.isInteger(count) || count < 1 || count > MAX_READ_COUNT)
    throw new RangeError(`cannot read ${count} registers in one request (1..${MAX_READ_COUNT})`);
  if (!Number.isInteger(address) || address < 0 || address + count > 0x10000)
    throw new RangeError(`registers ${address}..${address + count - 1} are outside 0..65535`);
  const body = Buffer.alloc(6);
  body[0] = unit;
  body[1] = fn;
  body.writeUInt16BE(address, 2);
  body.writeUInt16BE(count, 4);
  return withCrc(body);
}

export interface Expected {
  unit: number;
  fn: ReadFunction;
  count: number;
}

export type ModbusReply =
  | { ok: true; registers: number[] }
  | { ok: false; error: 'exception'; code: number; name: string }
  | { ok: false; error: 'crc' | 'mismatch'; detail: string };

/** The bytes so far are not a reply yet: wait for more (or for the timeout). */
export const INCOMPLETE = 'incomplete';

/**
 * What the bytes received since the request say. A reply may follow garbage (line noise, a late
 * answer to an earlier request), so every offset is tried as the start of a frame; a frame counts
 * only with a good CRC. A good frame that is not the answer (another unit, function or size) is
 * most likely a late answer to an earlier request, with ours still to come: it is a mismatch only
 * once `final` says nothing more is coming (the timeout). A broken frame of ours is a CRC error at
 * once when nothing follows it, unless a later offset could still start the real one.
 */
export function readResponse(
  buf: Uint8Array,
  expect: Expected,
  final = false,
): ModbusReply | typeof INCOMPLETE {
  const dataBytes = expect.count * 2;
  let pending = false;
  let badCrc: { detail: string; end: number } | undefined;
  let foreign: string | undefined;
  for (let i = 0; i < buf.length; i++) {
    const unit = buf[i];
    const fn = i + 1 < buf.length ? buf[i + 1] : undefined;
    if (fn === undefined) {
      if (unit === expect.unit) pending = true;
      break;
    }
    const isException = fn === (expect.fn | 0x80);
    if (fn !== expect.fn && !isException && fn !== (expect.fn === 3 ? 4 : 3)) continue;
    // An exception frame is [unit][fn|0x80][code][crc]; a read answer [unit][fn][n][n bytes][crc].
    let length: number | undefined;
    if (isException) length = 5;
    else if (i + 2 < buf.length) {
      // Register data comes in pairs of bytes, at most 250 of them: anything else is not a frame start.
      if (buf[i + 2] % 2 !== 0 || buf[i + 2] > 2 * MAX_READ_COUNT) continue;
      length = 5 + buf[i + 2];
    }
    if (length === undefined || i + length > buf.length) {
      if (unit === expect.unit && (fn === expect.fn || isException)) pending = true;
      continue;
    }
    if (!crcOk(buf, i, length)) {
      if (unit === expect.unit && (fn === expect.fn || isException))
        badCrc = { detail: `bad CRC on a ${length}-byte frame from unit ${unit}`, end: i + length };
      continue;
    }
    if (unit !== expect.unit) {
      foreign ??= `a frame from unit ${unit} while unit ${expect.unit} was asked`;
      continue;
    }
    if (isException)
      return { ok: false, error: 'exception', code: buf[i + 2], name: exceptionName(buf[i + 2]) };
    if (fn !== expect.fn) {
      foreign ??= `a function ${fn} answer to a function ${expect.fn} request`;
      continue;
    }
    if (buf[i + 2] !== dataBytes) {
      foreign ??= `${buf[i + 2]} data bytes where ${dataBytes} were asked`;
      continue;
    }
    const registers: number[] = [];
    for (let r = 0; r < expect.count; r++) registers.push((buf[i + 3 + 2 * r] << 8) | buf[i + 4 + 2 * r]);
    return { ok: true, registers };
  }
  if (final && foreign) return { ok: false, error: 'mismatch', detail: foreign };
  // A slave's broken frame is the last thing it sends; broken bytes followed by more are noise.
  if (badCrc && (final || (!pending && badCrc.end === buf.length)))
    return { ok: false, error: 'crc', detail: badCrc.detail };
  return INCOMPLETE;
}
