import { readFileSync } from 'node:fs';
import type { Statement } from 'better-sqlite3';
import type { FileProblem } from '../../core/errors.js';
import { VigieError } from '../../core/errors.js';
import type { Database } from '../../store/db.js';
import type { Crm, CrmQuery, CrmResult, CustomerRecord } from './crm.js';
import { parseCustomersCsv, type Asset, type DirectoryCustomer } from './customers-csv.js';
import { normalisePhone } from './normalise.js';

/*
 * The built-in CRM: customers in SQLite (schema.ts), filled by `vigie crm import FILE.csv` or the
 * `crm.csv` of the configuration at start. An import is an upsert: customers in the file replace
 * their earlier version (and their list of appliances), customers not in it stay.
 */

export interface ImportCounts {
  customers: number;
  assets: number;
  /** Appliances that belonged to another customer before this import. */
  moved: number;
}

export interface CsvImportResult {
  imported: number;
  assets: number;
  moved: number;
  problems: FileProblem[];
}

interface AssetRow {
  serial: string;
  device_id: string | null;
  model: string | null;
}

export class DirectoryCrm implements Crm {
  readonly kind = 'directory';
  private readonly sql: Record<
    | 'upsertCustomer'
    | 'dropAssets'
    | 'ownerOf'
    | 'upsertAsset'
    | 'byDevice'
    | 'byPhone'
    | 'bySite'
    | 'customer'
    | 'assets',
    Statement
  >;

  constructor(private readonly db: Database) {
    this.sql = {
      upsertCustomer: db.prepare(
        `INSERT INTO crm_customers (id, record_json, phone, site, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET record_json = excluded.record_json, phone = excluded.phone,
           site = excluded.site, updated_at = excluded.updated_at`,
      ),
      dropAssets: db.prepare('DELETE FROM crm_assets WHERE customer_id = ?'),
      ownerOf: db.prepare('SELECT customer_id FROM crm_assets WHERE serial = ?').pluck(),
      upsertAsset: db.prepare(
        `INSERT INTO crm_assets (serial, customer_id, device_id, model, ord) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (serial) DO UPDATE SET serial = excluded.serial, customer_id = excluded.customer_id,
           device_id = excluded.device_id, model = excluded.model, ord = excluded.ord`,
      ),
      // Two rows back are enough to know a key is ambiguous.
      byDevice: db.prepare('SELECT DISTINCT customer_id FROM crm_assets WHERE device_id = ? LIMIT 2').pluck(),
      byPhone: db.prepare('SELECT id FROM crm_customers WHERE phone = ? LIMIT 2').pluck(),
      bySite: db.prepare('SELECT id FROM crm_customers WHERE site = ? LIMIT 2').pluck(),
      customer: db.prepare('SELECT record_json FROM crm_customers WHERE id = ?').pluck(),
      assets: db.prepare(
        'SELECT serial, device_id, model FROM crm_assets WHERE customer_id = ? ORDER BY ord, serial',
      ),
    };
  }

  /** Upserts every customer in one transaction: all of them or, on an error, none. */
  import(customers: readonly DirectoryCustomer[], now: number): ImportCounts {
    return this.db.transaction(() => {
      // Owners before this import: a serial moving from c1 to c2 counts once, whichever comes first.
      const before = new Map<string, string | undefined>();
      for (const c of customers) {
        for (const a of c.assets ?? [])
          before.set(a.serial, this.sql.ownerOf.get(a.serial) as string | undefined);
      }
      const counts: ImportCounts = { customers: 0, assets: 0, moved: 0 };
      for (const c of customers) {
        const { assets, site, source: _source, ...record } = c;
        const phone = c.phone === undefined ? null : (normalisePhone(c.phone) ?? c.phone);
        this.sql.upsertCustomer.run(c.id, JSON.stringify(record), phone, site ?? null, now);
        this.sql.dropAssets.run(c.id);
        (assets ?? []).forEach((a, ord) => {
          const owner = before.get(a.serial);
          if (owner !== undefined && owner !== c.id) counts.moved++;
          this.sql.upsertAsset.run(a.serial, c.id, a.deviceId ?? null, a.model ?? null, ord);
          counts.assets++;
        });
        counts.customers++;
      }
      return counts;
    })();
  }

  /** Reads, checks and imports a CSV file; bad rows are in `problems` and left out. */
  importCsvFile(path: string, now: number): CsvImportResult {
    const text = readUtf8(path);
    if (typeof text !== 'string') return { imported: 0, assets: 0, moved: 0, problems: [text] };
    const { customers, problems } = parseCustomersCsv(text, path);
    const counts = this.import(customers, now);
    return { imported: counts.customers, assets: counts.assets, moved: counts.moved, problems };
  }

  /**
   * Serial, then device, then phone, then site. A device, phone or site shared by several customers
   * says nothing about which one it is: the next key is tried instead of guessing.
   */
  find(q: CrmQuery): CustomerRecord | undefined {
    const id =
      (q.serial ? (this.sql.ownerOf.get(q.serial.trim()) as string | undefined) : undefined) ??
      (q.deviceId ? only(this.sql.byDevice.all(q.deviceId)) : undefined) ??
      (q.phone ? only(this.sql.byPhone.all(normalisePhone(q.phone) ?? q.phone)) : undefined) ??
      (q.site ? only(this.sql.bySite.all(q.site)) : undefined);
    return id === undefined ? undefined : this.get(id);
  }

  get(id: string): CustomerRecord | undefined {
    const json = this.sql.customer.get(id) as string | undefined;
    if (json === undefined) return undefined;
    const record = JSON.parse(json) as Omit<CustomerRecord, 'source'>;
    const assets = (this.sql.assets.all(id) as AssetRow[]).map((r) => {
      const a: Asset = { serial: r.serial };
      if (r.model !== null) a.model = r.model;
      if (r.device_id !== null) a.deviceId = r.device_id;
      return a;
    });
    return { ...record, id, ...(assets.length > 0 ? { assets } : {}), source: 'directory' };
  }

  lookup(q: CrmQuery, signal: AbortSignal): Promise<CrmResult> {
    if (signal.aborted) return Promise.resolve({ error: 'CRM lookup cancelled' });
    try {
      const customer = this.find(q);
      return Promise.resolve(customer ? { found: true, customer } : { found: false });
    } catch (err) {
      return Promise.resolve({ error: `CRM directory: ${(err as Error).message}` });
    }
  }
}

/** `vigie crm import FILE.csv`, and `crm.csv` at start. */
export function importCsvFile(db: Database, path: string, now: number): CsvImportResult {
  return new DirectoryCrm(db).importCsvFile(path, now);
}

function only(ids: unknown[]): string | undefined {
  return ids.length === 1 ? (ids[0] as string) : undefined;
}

/** The file's text, or the problem that stops it being read: a Latin-1 export would import mangled names. */
function readUtf8(path: string): string | FileProblem {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new VigieError('VIGIE_ERR_NOT_FOUND', `cannot read the customer file ${path} (${code})`, {
      cause: err,
    });
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const loose = new TextDecoder('utf-8').decode(bytes);
    const line = loose.slice(0, loose.indexOf('\uFFFD')).split('\n').length;
    return { file: path, line, message: 'not UTF-8 text: save the file as CSV UTF-8; nothing imported' };
  }
}
