import type { FileProblem } from '../../core/errors.js';
import type { CustomerRecord } from './crm.js';
import { readCsv, type CsvRecord } from './csv.js';
import { isEmail, latitudeOk, longitudeOk, normalisePhone, parseDecimal } from './normalise.js';

/*
 * The customer directory's CSV: a header row (names in any case and order), then one row per
 * customer and appliance. Several rows with one id add appliances to one customer; their customer
 * columns must agree or be left empty. A bad row is reported with its line and left out; the others
 * import.
 */

/** A customer as the directory stores it: the record plus the Vigie site its appliances are on. */
export interface DirectoryCustomer extends CustomerRecord {
  site?: string;
}

export type Asset = NonNullable<CustomerRecord['assets']>[number];

export const CSV_COLUMNS = [
  'id',
  'name',
  'phone',
  'email',
  'language',
  'address',
  'lat',
  'lon',
  'area',
  'contract',
  'value',
  'site',
  'serial',
  'model',
  'device',
] as const;
type Column = (typeof CSV_COLUMNS)[number];

const LANGUAGES = ['en', 'fr'];

/** The columns every row of one customer must agree on. */
type Shared = Pick<
  DirectoryCustomer,
  'name' | 'phone' | 'email' | 'language' | 'address' | 'location' | 'area' | 'contract' | 'value' | 'site'
>;
const SHARED_KEYS = [
  'name',
  'phone',
  'email',
  'language',
  'address',
  'location',
  'area',
  'contract',
  'value',
  'site',
] as const satisfies readonly (keyof Shared)[];

interface Building {
  line: number;
  shared: Partial<Shared>;
  /** Line that set each shared field: what a disagreeing row is pointed to. */
  setOn: Partial<Record<keyof Shared, number>>;
  assets: Asset[];
}

export function parseCustomersCsv(
  text: string,
  file: string,
): { customers: DirectoryCustomer[]; problems: FileProblem[] } {
  const problems: FileProblem[] = [];
  const report = (line: number, message: string) => problems.push({ file, line, message });
  const done = (customers: DirectoryCustomer[]) => ({
    customers,
    problems: problems.sort((a, b) => a.line - b.line),
  });

  const csv = readCsv(text);
  for (const p of csv.problems) report(p.line, p.message);
  // Spreadsheets export rows of empty cells after the data: nothing to say about them.
  const rows = csv.records.filter((r) => r.fields.some((f) => f.trim() !== ''));
  const header = rows.shift();
  if (!header) {
    report(1, `no header row (expected columns: ${CSV_COLUMNS.join(', ')})`);
    return done([]);
  }
  const columns = readHeader(header, report);
  if (!columns) return done([]);

  const building = new Map<string, Building>();
  /** Upper-cased serial -> the line that listed it (devices report serials in any case). */
  const serials = new Map<string, number>();
  for (const row of rows) {
    if (row.fields.length !== columns.length) {
      report(row.line, `${row.fields.length} fields where the header has ${columns.length}`);
      continue;
    }
    const cells: Partial<Record<Column, string>> = {};
    columns.forEach((col, k) => {
      const v = row.fields[k].trim();
      if (col && v !== '') cells[col] = v;
    });
    const parsed = parseRow(cells);
    if ('errors' in parsed) {
      for (const e of parsed.errors) report(row.line, e);
      continue;
    }
    const { id, shared, asset } = parsed;
    const known = building.get(id);
    const conflicts = known ? disagreements(known, shared) : [];
    const listedOn = asset && serials.get(asset.serial.toUpperCase());
    if (asset && listedOn) conflicts.push(`serial ${asset.serial} is already listed on line ${listedOn}`);
    if (conflicts.length > 0) {
      for (const c of conflicts) report(row.line, `customer ${id}: ${c}`);
      continue;
    }
    const b = known ?? { line: row.line, shared: {}, setOn: {}, assets: [] };
    building.set(id, b);
    for (const key of SHARED_KEYS) {
      if (shared[key] !== undefined && b.shared[key] === undefined) {
        (b.shared as Record<string, unknown>)[key] = shared[key];
        b.setOn[key] = row.line;
      }
    }
    if (asset) {
      b.assets.push(asset);
      serials.set(asset.serial.toUpperCase(), row.line);
    }
  }

  const customers: DirectoryCustomer[] = [];
  for (const [id, b] of building) {
    const { name, ...rest } = b.shared;
    if (name === undefined) {
      report(b.line, `customer ${id} has no name on any of its rows`);
      continue;
    }
    const c: DirectoryCustomer = { id, name, ...rest, source: 'directory' };
    if (b.assets.length > 0) c.assets = b.assets;
    customers.push(c);
  }
  return done(customers);
}

/** Column per field position; undefined for an unknown column (ignored). Null when nothing can be read. */
function readHeader(
  header: CsvRecord,
  report: (line: number, message: string) => void,
): (Column | undefined)[] | null {
  const seen = new Set<Column>();
  let fatal = false;
  const columns = header.fields.map((raw) => {
    const name = raw.trim().toLowerCase();
    const col = CSV_COLUMNS.find((c) => c === name);
    if (!col) {
      report(header.line, `unknown column "${raw.trim()}" (ignored; known: ${CSV_COLUMNS.join(', ')})`);
      return undefined;
    }
    if (seen.has(col)) {
      report(header.line, `column "${col}" appears twice`);
      fatal = true;
    }
    seen.add(col);
    return col;
  });
  for (const required of ['id', 'name'] as const) {
    if (!seen.has(required)) {
      report(header.line, `the header has no "${required}" column`);
      fatal = true;
    }
  }
  return fatal ? null : columns;
}

type ParsedRow = { id: string; shared: Partial<Shared>; asset?: Asset } | { errors: string[] };

function parseRow(cells: Partial<Record<Column, string>>): ParsedRow {
  const errors: string[] = [];
  const shared: Partial<Shared> = {};
  const id = cells.id;
  if (!id) errors.push('id is empty');
  for (const key of ['name', 'address', 'area', 'contract', 'site'] as const) {
    if (cells[key] !== undefined) shared[key] = cells[key];
  }
  if (cells.phone !== undefined) {
    const phone = normalisePhone(cells.phone);
    if (phone) shared.phone = phone;
    else errors.push(`phone "${cells.phone}" is not an international number (like +33612345678)`);
  }
  if (cells.email !== undefined) {
    if (isEmail(cells.email)) shared.email = cells.email;
    else errors.push(`email "${cells.email}" is not an e-mail address`);
  }
  if (cells.language !== undefined) {
    const lang = cells.language.toLowerCase();
    if (LANGUAGES.includes(lang)) shared.language = lang;
    else errors.push(`language "${cells.language}" is not one of ${LANGUAGES.join(', ')}`);
  }
  if (cells.lat !== undefined || cells.lon !== undefined) {
    const lat = parseDecimal(cells.lat ?? '');
    const lon = parseDecimal(cells.lon ?? '');
    if (cells.lat === undefined || cells.lon === undefined)
      errors.push('lat and lon go together: give both or none');
    else if (lat === undefined || !latitudeOk(lat))
      errors.push(`lat "${cells.lat}" is not a latitude (-90 to 90)`);
    else if (lon === undefined || !longitudeOk(lon)) {
      errors.push(`lon "${cells.lon}" is not a longitude (-180 to 180)`);
    } else shared.location = { lat, lon };
  }
  if (cells.value !== undefined) {
    const value = parseDecimal(cells.value);
    if (value === undefined) errors.push(`value "${cells.value}" is not a number`);
    else shared.value = value;
  }
  let asset: Asset | undefined;
  if (cells.serial !== undefined) {
    asset = { serial: cells.serial };
    if (cells.model !== undefined) asset.model = cells.model;
    if (cells.device !== undefined) asset.deviceId = cells.device;
  } else if (cells.model !== undefined || cells.device !== undefined) {
    errors.push('model and device describe an appliance: give its serial too');
  }
  if (errors.length > 0 || !id) return { errors };
  return asset ? { id, shared, asset } : { id, shared };
}

function disagreements(known: Building, shared: Partial<Shared>): string[] {
  const out: string[] = [];
  for (const key of SHARED_KEYS) {
    const was = known.shared[key];
    const now = shared[key];
    if (was === undefined || now === undefined || JSON.stringify(was) === JSON.stringify(now)) continue;
    out.push(`${key} ${show(now)} differs from line ${known.setOn[key]} (${show(was)})`);
  }
  return out;
}

function show(v: Shared[keyof Shared]): string {
  return typeof v === 'object' ? `${v.lat},${v.lon}` : `"${v}"`;
}
