import type { Database, Statement } from 'better-sqlite3';
import type { ZoneKpi } from './model.js';

export interface Durations {
  opened: number;
  mttaMs?: number;
  mttrMs?: number;
  zones: { zone: string; opened: number; mttaMs?: number; mttrMs?: number }[];
}

interface Row {
  zone: string;
  opened: number;
  tta: number | null;
  ttr: number | null;
  tta_n: number;
  ttr_n: number;
}

/**
 * KPI figures from the gateway's incident store. The open counts always come from here (they are
 * the live state, which no history database knows better); the durations come from here when
 * InfluxDB is not configured or cannot be asked. Time to resolve counts incidents an operator (or a
 * technician) resolved, as the `incident` measurement's ttrMs does.
 */
export class StoreKpis {
  private readonly s: Record<'durations' | 'open', Statement>;

  constructor(db: Database) {
    this.s = {
      durations: db.prepare(
        `SELECT zone, COUNT(*) AS opened,
           SUM(CASE WHEN acknowledged_at IS NOT NULL THEN acknowledged_at - opened_at END) AS tta,
           COUNT(acknowledged_at) AS tta_n,
           SUM(CASE WHEN resolved_at IS NOT NULL AND resolved_by IS NOT NULL THEN resolved_at - opened_at END) AS ttr,
           COUNT(CASE WHEN resolved_at IS NOT NULL AND resolved_by IS NOT NULL THEN 1 END) AS ttr_n
         FROM incidents WHERE opened_at >= ? AND opened_at <= ? GROUP BY zone ORDER BY zone`,
      ),
      open: db.prepare(
        `SELECT zone, COUNT(*) AS n FROM incidents WHERE state IN ('open', 'acknowledged') GROUP BY zone`,
      ),
    };
  }

  /** Incidents open or acknowledged now, per zone. */
  openByZone(): Map<string, number> {
    const rows = this.s.open.all() as { zone: string; n: number }[];
    return new Map(rows.map((r) => [r.zone, r.n]));
  }

  durations(since: number, until: number): Durations {
    const rows = this.s.durations.all(since, until) as Row[];
    const mean = (sum: number | null, n: number) => (n > 0 && sum !== null ? Math.round(sum / n) : undefined);
    let opened = 0;
    let tta = 0;
    let ttaN = 0;
    let ttr = 0;
    let ttrN = 0;
    const zones = rows.map((r) => {
      opened += r.opened;
      tta += r.tta ?? 0;
      ttaN += r.tta_n;
      ttr += r.ttr ?? 0;
      ttrN += r.ttr_n;
      return defined({
        zone: r.zone,
        opened: r.opened,
        mttaMs: mean(r.tta, r.tta_n),
        mttrMs: mean(r.ttr, r.ttr_n),
      });
    });
    return defined({ opened, mttaMs: mean(tta, ttaN), mttrMs: mean(ttr, ttrN), zones });
  }
}

/** Joins the live open counts with the window's durations, zone by zone (zones with either). */
export function zoneKpis(open: ReadonlyMap<string, number>, d: Durations): ZoneKpi[] {
  const byZone = new Map(d.zones.map((z) => [z.zone, z]));
  const names = [...new Set([...open.keys(), ...byZone.keys()])].sort();
  return names.map((zone) => {
    const z = byZone.get(zone);
    return defined({
      zone,
      open: open.get(zone) ?? 0,
      opened: z?.opened ?? 0,
      mttaMs: z?.mttaMs,
      mttrMs: z?.mttrMs,
    });
  });
}

/** Drops undefined members, so JSON answers have no `"mttaMs": null` where there is no figure. */
function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
