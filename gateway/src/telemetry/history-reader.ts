import type { Logger } from '../core/log.js';
import type { LocalHistory } from './local-history.js';
import type { HistoryReader, HistorySeries, Kpis } from './model.js';
import { zoneKpis, type Durations, type StoreKpis } from './store-kpis.js';

/** The part of the InfluxDB reader this needs (telemetry/influx-reader.ts). */
export interface InfluxHistory {
  series(device: string, field: string, since: number, until: number): Promise<HistorySeries>;
  durations(since: number, until: number): Promise<Durations>;
}

/**
 * What the console's charts and KPI tiles read: InfluxDB when it is configured and answers, the
 * gateway's own store otherwise. The answer names its source, so nobody mistakes the thinned local
 * record for the full history.
 */
export class CombinedHistory implements HistoryReader {
  constructor(
    private readonly d: {
      local: LocalHistory;
      kpis: StoreKpis;
      influx?: InfluxHistory;
      logger: Logger;
    },
  ) {}

  async series(device: string, field: string, since: number, until: number): Promise<HistorySeries> {
    const local = () => this.d.local.series(device, field, since, until);
    if (!this.d.influx) return local();
    try {
      const s = await this.d.influx.series(device, field, since, until);
      // Just configured, or the field never reached it: the local record may still have it.
      if (s.points.length > 0) return s;
      const l = local();
      return l.points.length > 0 ? l : s;
    } catch (err) {
      this.d.logger.debug('history from InfluxDB failed, answered from the store', {
        error: (err as Error).message,
      });
      return local();
    }
  }

  async kpis(since: number, until: number): Promise<Kpis> {
    const open = this.d.kpis.openByZone();
    let durations: Durations | undefined;
    let source: Kpis['source'] = 'store';
    if (this.d.influx) {
      try {
        durations = await this.d.influx.durations(since, until);
        source = 'influx';
      } catch (err) {
        this.d.logger.debug('KPIs from InfluxDB failed, answered from the store', {
          error: (err as Error).message,
        });
      }
    }
    durations ??= this.d.kpis.durations(since, until);
    const out: Kpis = {
      source,
      since,
      until,
      open: [...open.values()].reduce((a, b) => a + b, 0),
      opened: durations.opened,
      zones: zoneKpis(open, durations),
    };
    if (durations.mttaMs !== undefined) out.mttaMs = durations.mttaMs;
    if (durations.mttrMs !== undefined) out.mttrMs = durations.mttrMs;
    return out;
  }
}
