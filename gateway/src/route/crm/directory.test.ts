import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, test } from 'node:test';
import { PACKAGE_ROOT } from '../../config/load.js';
import { ManualClock } from '../../core/clock.js';
import { VigieError } from '../../core/errors.js';
import { memoryLogger } from '../../core/log.js';
import { openDatabase, type Database } from '../../store/db.js';
import { createCrm } from './create.js';
import type { CrmQuery, CrmResult } from './crm.js';
import { DirectoryCrm, importCsvFile } from './directory.js';

// A real database file with every migration applied (openDatabase), one per test.

const EXAMPLE = join(PACKAGE_ROOT, 'rules/examples/customers.csv');
const HEADER = 'id,name,phone,site,contract,serial,model,device';
const tmp = mkdtempSync(join(tmpdir(), 'vigie-crm-'));
let db: Database;

beforeEach(() => {
  db?.close();
  db = openDatabase(mkdtempSync(join(tmp, 'db-')));
});
after(() => {
  db?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function csvFile(name: string, rows: string[]): string {
  const file = join(tmp, name);
  writeFileSync(file, rows.join('\n') + '\n');
  return file;
}

const look = (crm: DirectoryCrm, q: CrmQuery): Promise<CrmResult> =>
  crm.lookup(q, new AbortController().signal);
const idOf = (r: CrmResult) => ('found' in r && r.found ? r.customer.id : 'error' in r ? r.error : null);

test('directory - the example file imports and answers by serial, device, phone and site', async () => {
  const r = importCsvFile(db, EXAMPLE, 1000);
  assert.deepEqual(r.problems, []);
  assert.equal(r.imported, 4);
  assert.equal(r.assets, 5);
  const crm = new DirectoryCrm(db);

  const bySerial = await look(crm, { serial: 'wm-0042' });
  assert.ok('found' in bySerial && bySerial.found);
  assert.deepEqual(bySerial.customer, {
    id: 'cust-horizon-lounge',
    name: 'Horizon Lounge Services',
    phone: '+33612345690',
    email: 'exploitation@horizon-lounge.example',
    language: 'fr',
    address: 'Terminal 2, Hall B, niveau 1, 95700 Roissy-en-France',
    location: { lat: 49.0033, lon: 2.5703 },
    area: 'cdg-t2',
    contract: 'premium',
    value: 48000,
    assets: [{ serial: 'WM-0042', model: 'Wega Atlas 2GR', deviceId: 'coffee-lounge-1' }],
    source: 'directory',
  });
  assert.equal(idOf(await look(crm, { deviceId: 'coffee-lounge-1' })), 'cust-horizon-lounge');
  assert.equal(idOf(await look(crm, { phone: '+33 6 12 34 56 90' })), 'cust-horizon-lounge');
  // Three customers on the airport site: the site alone does not say which.
  assert.deepEqual(await look(crm, { site: 'airport' }), { found: false });
  assert.deepEqual(await look(crm, { serial: 'NOPE-1' }), { found: false });
  assert.deepEqual(await look(crm, { deviceId: 'Coffee-Lounge-1' }), { found: false });
});

test('directory - keys are tried in order: serial, device, phone, site', async () => {
  const crm = new DirectoryCrm(db);
  crm.import(
    [
      {
        id: 'a',
        name: 'A',
        phone: '+33600000001',
        site: 's1',
        assets: [{ serial: 'SA', deviceId: 'dev-a' }],
        source: 'directory',
      },
      {
        id: 'b',
        name: 'B',
        phone: '+33600000002',
        site: 's2',
        assets: [{ serial: 'SB', deviceId: 'dev-b' }],
        source: 'directory',
      },
    ],
    1,
  );
  const cases: [CrmQuery, string][] = [
    [{ serial: 'SA', deviceId: 'dev-b', phone: '+33600000002', site: 's2' }, 'a'],
    [{ serial: 'unknown', deviceId: 'dev-b', phone: '+33600000001' }, 'b'],
    [{ deviceId: 'unknown', phone: '0033 6 00 00 00 01', site: 's2' }, 'a'],
    [{ phone: '+33699999999', site: 's2' }, 'b'],
  ];
  for (const [q, id] of cases) assert.equal(idOf(await look(crm, q)), id, JSON.stringify(q));
});

test('directory - a re-import updates the customer, replaces its assets and moves a serial to its new owner', async () => {
  const first = csvFile('first.csv', [
    HEADER,
    'c1,Alpha,+33600000001,airport,standard,S-1,Old,dev-1',
    'c1,,,,,S-2,,',
    'c2,Beta,+33600000002,airport,basic,S-3,,',
  ]);
  assert.deepEqual(importCsvFile(db, first, 1), { imported: 2, assets: 3, moved: 0, problems: [] });
  const second = csvFile('second.csv', [
    HEADER,
    'c1,Alpha SA,+33600000001,airport,premium,S-1,New,dev-1',
    'c2,Beta,+33600000002,airport,basic,S-3,,',
    'c2,,,,,S-2,,',
  ]);
  assert.deepEqual(importCsvFile(db, second, 2), { imported: 2, assets: 3, moved: 1, problems: [] });
  const crm = new DirectoryCrm(db);
  const c1 = crm.get('c1');
  assert.equal(c1?.name, 'Alpha SA');
  assert.equal(c1?.contract, 'premium');
  assert.deepEqual(c1?.assets, [{ serial: 'S-1', model: 'New', deviceId: 'dev-1' }]);
  assert.equal(idOf(await look(crm, { serial: 's-2' })), 'c2');
  assert.deepEqual(
    crm.get('c2')?.assets?.map((a) => a.serial),
    ['S-3', 'S-2'],
  );
  assert.equal(db.prepare('SELECT count(*) FROM crm_customers').pluck().get(), 2);
  assert.equal(db.prepare('SELECT updated_at FROM crm_customers WHERE id = ?').pluck().get('c1'), 2);
});

test('directory - a bad row is reported with file and line and kept out; the others import', async () => {
  const file = csvFile('mixed.csv', [
    HEADER,
    'c1,Alpha,+33600000001,airport,standard,S-1,,',
    'c2,Beta,not a phone,airport,standard,S-2,,',
    'c3,Gamma,+33600000003,,basic,S-3,,',
  ]);
  const r = importCsvFile(db, file, 1);
  assert.equal(r.imported, 2);
  assert.deepEqual(
    r.problems.map((p) => [p.file, p.line]),
    [[file, 3]],
  );
  const crm = new DirectoryCrm(db);
  assert.equal(idOf(await look(crm, { serial: 'S-3' })), 'c3');
  assert.deepEqual(await look(crm, { serial: 'S-2' }), { found: false });
  // Only c1 is left on the airport site now that c2 stayed out.
  assert.equal(idOf(await look(crm, { site: 'airport' })), 'c1');
});

test('directory - an import is one transaction: a failure stores none of it', () => {
  const crm = new DirectoryCrm(db);
  assert.throws(() =>
    crm.import(
      [
        { id: 'ok', name: 'Fine', source: 'directory' },
        // A serial SQLite refuses half-way through.
        { id: 'bad', name: 'Broken', assets: [{ serial: null as unknown as string }], source: 'directory' },
      ],
      1,
    ),
  );
  assert.equal(crm.get('ok'), undefined);
});

test('directory - unreadable and non-UTF-8 files', () => {
  assert.throws(
    () => importCsvFile(db, join(tmp, 'missing.csv'), 1),
    (e: unknown) => e instanceof VigieError && e.code === 'VIGIE_ERR_NOT_FOUND',
  );
  const latin1 = join(tmp, 'latin1.csv');
  writeFileSync(latin1, Buffer.from('id,name\nc1,Alpha\nc2,Caf\xe9 du Hall\n', 'latin1'));
  const r = importCsvFile(db, latin1, 1);
  assert.equal(r.imported, 0);
  assert.deepEqual(
    r.problems.map((p) => p.line),
    [3],
  );
  assert.match(r.problems[0].message, /not UTF-8/);
});

test('directory - lookup never throws and honours an aborted signal', async () => {
  const crm = new DirectoryCrm(db);
  const gone = new AbortController();
  gone.abort();
  assert.ok('error' in (await crm.lookup({ serial: 'x' }, gone.signal)));
  db.exec('DROP TABLE crm_assets');
  const r = await look(crm, { serial: 'x' });
  assert.ok('error' in r && /CRM directory/.test(r.error));
});

test('createCrm - a directory with csv imports it at start and logs its problems with file:line', async () => {
  const file = csvFile('start.csv', [HEADER, 'c1,Alpha,+33600000001,airport,standard,S-1,,', 'c2,,,,,,,']);
  const logger = memoryLogger();
  const crm = createCrm({ type: 'directory', csv: file }, { db, logger, clock: new ManualClock(5) });
  assert.equal(crm.kind, 'directory');
  assert.equal(idOf(await crm.lookup({ serial: 'S-1' }, new AbortController().signal)), 'c1');
  assert.ok(logger.lines.some((l) => l.includes(`${file}:3: customer c2 has no name`)));
  assert.ok(logger.lines.some((l) => l.includes('CRM directory imported') && l.includes('"customers":1')));

  const quiet = memoryLogger();
  const missing = createCrm(
    { type: 'directory', csv: join(tmp, 'gone.csv') },
    { db, logger: quiet, clock: new ManualClock() },
  );
  assert.equal(idOf(await missing.lookup({ serial: 'S-1' }, new AbortController().signal)), 'c1');
  assert.ok(quiet.lines.some((l) => l.includes('CRM directory not imported')));
});
