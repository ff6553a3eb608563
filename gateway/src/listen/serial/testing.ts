import type { SerialLine } from '../../site/model.js';

/** A serial line as the site loader builds it, with its defaults: tests say only what they vary. */
export function testLine(over: Partial<SerialLine> = {}): SerialLine {
  return {
    id: 'l1',
    path: '/dev/null',
    baudRate: 9600,
    dataBits: 8,
    parity: 'none',
    stopBits: 1,
    protocol: 'lines',
    delimiter: '\n',
    format: 'json',
    maxLineBytes: 1024,
    timeoutMs: 500,
    retries: 2,
    offlineAfter: 3,
    pollMs: 10_000,
    ...over,
  };
}
