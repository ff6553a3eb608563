import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { Registry } from '../../core/metrics.js';
import type { PinFactory } from '../../io/gpio.js';
import type { Site } from '../../site/model.js';
import { GpioSource } from '../gpio/gpio-source.js';
import { ModbusSource } from '../serial/modbus-source.js';
import { TextLineSource } from '../serial/line-source.js';
import type { EmitReading, LocalSource } from './model.js';

export type { EmitReading, LocalReading, LocalSource } from './model.js';
export { localFeed } from './feed.js';

/**
 * The sources for the devices the gateway reads itself: one for its GPIO lines, one per serial
 * line with devices on it. A line no device uses is not opened (it may be someone else's port).
 */
export function createLocalSources(
  site: Site,
  d: {
    pins: () => PinFactory;
    resyncMs: number;
    emit: EmitReading;
    clock: Clock;
    logger: Logger;
    metrics: Registry;
  },
): LocalSource[] {
  const out: LocalSource[] = [];
  const gpio = site.devices.filter((x) => x.gpio);
  if (gpio.length > 0) {
    out.push(
      new GpioSource({
        devices: gpio,
        pins: d.pins(),
        emit: d.emit,
        clock: d.clock,
        logger: d.logger.child('gpio'),
        metrics: d.metrics,
        resyncMs: d.resyncMs,
      }),
    );
  }
  for (const line of Object.values(site.lines)) {
    const devices = site.devices.filter((x) => x.line?.line === line.id);
    if (devices.length === 0) continue;
    const common = { line, devices, emit: d.emit, clock: d.clock, metrics: d.metrics };
    const logger = d.logger.child(`line:${line.id}`);
    out.push(
      line.protocol === 'modbus-rtu'
        ? new ModbusSource({ ...common, logger })
        : new TextLineSource({ ...common, kinds: site.kinds, logger }),
    );
  }
  return out;
}
