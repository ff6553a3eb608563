import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PACKAGE_ROOT } from '../../config/load.js';
import { readCsv } from './csv.js';
import { parseCustomersCsv } from './customers-csv.js';

const HEADER = 'id,name,phone,email,language,address,lat,lon,area,contract,value,site,serial,model,device';

test('csv reader - RFC 4180 records, with the line each starts on', () => {
  const cases: { name: string; text: string; records: [number, string[]][] }[] = [
    {
      name: 'plain LF',
      text: 'a,b\n1,2\n',
      records: [
        [1, ['a', 'b']],
        [2, ['1', '2']],
      ],
    },
    {
      name: 'CRLF, no final break',
      text: 'a,b\r\n1,2',
      records: [
        [1, ['a', 'b']],
        [2, ['1', '2']],
      ],
    },
    {
      name: 'lone CR',
      text: 'a\r1\r',
      records: [
        [1, ['a']],
        [2, ['1']],
      ],
    },
    {
      name: 'byte order mark',
      text: '\uFEFFid,name\n1,x',
      records: [
        [1, ['id', 'name']],
        [2, ['1', 'x']],
      ],
    },
    { name: 'quoted comma', text: '"Paris, T2",x', records: [[1, ['Paris, T2', 'x']]] },
    { name: 'doubled quote', text: '"say ""hi""",x', records: [[1, ['say "hi"', 'x']]] },
    { name: 'empty quoted and empty fields', text: '"",,x,', records: [[1, ['', '', 'x', '']]] },
    {
      name: 'line breaks inside quotes count',
      text: 'a,"line 1\r\nline 2\nline 3"\nb,c\n',
      records: [
        [1, ['a', 'line 1\nline 2\nline 3']],
        [4, ['b', 'c']],
      ],
    },
    {
      name: 'blank lines skipped',
      text: '\n\na\r\n\r\nb\n\n',
      records: [
        [3, ['a']],
        [5, ['b']],
      ],
    },
  ];
  for (const c of cases) {
    const r = readCsv(c.text);
    assert.deepEqual(r.problems, [], c.name);
    assert.deepEqual(
      r.records.map((x) => [x.line, x.fields]),
      c.records,
      c.name,
    );
  }
});

test('csv reader - a broken record is reported on its line and the next ones still read', () => {
  const r = readCsv(['a,b', 'x"y,1', '"closed"junk,2', 'c,d', '"never closed,3', 'e,f'].join('\n'));
  assert.deepEqual(
    r.records.map((x) => [x.line, x.fields]),
    [
      [1, ['a', 'b']],
      [4, ['c', 'd']],
      [6, ['e', 'f']],
    ],
  );
  assert.deepEqual(
    r.problems.map((p) => p.line),
    [2, 3, 5],
  );
  assert.match(r.problems[0].message, /quote inside an unquoted field/);
  assert.match(r.problems[1].message, /after the closing quote/);
  assert.match(r.problems[2].message, /never closed/);
});

test('customers csv - the example file imports with no problem', () => {
  const file = join(PACKAGE_ROOT, 'rules/examples/customers.csv');
  const { customers, problems } = parseCustomersCsv(readFileSync(file, 'utf8'), file);
  assert.deepEqual(problems, []);
  const lounge = customers.find((c) => c.assets?.some((a) => a.serial === 'WM-0042'));
  assert.ok(lounge);
  assert.equal(lounge.phone, '+33612345690');
  assert.equal(lounge.contract, 'premium');
  assert.equal(lounge.language, 'fr');
  assert.deepEqual(lounge.location, { lat: 49.0033, lon: 2.5703 });
  assert.deepEqual(lounge.assets, [
    { serial: 'WM-0042', model: 'Wega Atlas 2GR', deviceId: 'coffee-lounge-1' },
  ]);
  assert.ok(customers.some((c) => (c.assets?.length ?? 0) >= 2));
});

test('customers csv - columns in any order and case, values normalised', () => {
  const text = [
    'Serial,NAME,Id,Phone,Lat,Lon,Value,Language',
    'wm-1,"Café ""Le Hall"", Terminal 2",c1,+33 (0)6.12-34 56 78,49.0033,2.5703,1200.50,FR',
  ].join('\r\n');
  const { customers, problems } = parseCustomersCsv(text, 'f.csv');
  assert.deepEqual(problems, []);
  assert.deepEqual(customers, [
    {
      id: 'c1',
      name: 'Café "Le Hall", Terminal 2',
      phone: '+33612345678',
      language: 'fr',
      location: { lat: 49.0033, lon: 2.5703 },
      value: 1200.5,
      source: 'directory',
      assets: [{ serial: 'wm-1' }],
    },
  ]);
});

test('customers csv - each bad row is reported with its line and left out, the good rows kept', () => {
  const rows = [
    HEADER, // 1
    'c1,Alpha,+33612345601,a@example.org,fr,,49.0,2.5,t2,premium,100,airport,S-1,M,dev-1', // 2
    ',No id,,,,,,,,,,,,,', // 3
    'c2,Bad phone,0612345678,,,,,,,,,,,,', // 4
    'c3,Bad mail,,not-an-email,,,,,,,,,,,', // 5
    'c4,Bad language,,,de,,,,,,,,,,', // 6
    'c5,Half a point,,,,,49.0,,,,,,,,', // 7
    'c6,Off the map,,,,,91,2,,,,,,,', // 8
    'c7,Bad value,,,,,,,,,lots,,,,', // 9
    'c8,Model alone,,,,,,,,,,,,M2,', // 10
    'c9,Too few fields', // 11
    '', // 12: blank, nothing to say
    ',,,,,,,,,,,,,,', // 13: an empty spreadsheet row, nothing to say
    'c10,Beta,,,en,,,,,standard,,,S-2,,', // 14
  ];
  const { customers, problems } = parseCustomersCsv(rows.join('\n'), 'customers.csv');
  assert.deepEqual(
    customers.map((c) => c.id),
    ['c1', 'c10'],
  );
  assert.deepEqual(
    problems.map((p) => [p.file, p.line]),
    [3, 4, 5, 6, 7, 8, 9, 10, 11].map((l) => ['customers.csv', l]),
  );
  const at = (line: number) => problems.find((p) => p.line === line)?.message ?? '';
  assert.match(at(4), /phone "0612345678" is not an international number/);
  assert.match(at(7), /lat and lon go together/);
  assert.match(at(8), /not a latitude/);
  assert.match(at(11), /2 fields where the header has 15/);
});

test('customers csv - several rows of one id add assets; customer columns must agree or be empty', () => {
  const text = [
    'id,name,phone,contract,serial,model',
    'c1,Brasserie,+33148621015,standard,WM-1,Atlas', // 2
    'c1,,,,IM-2,Scotsman', // 3: adds an asset
    'c1,Brasserie,,gold,IM-3,', // 4: contract disagrees with line 2
    'c2,Other,,,wm-1,', // 5: the serial of line 2, in another case
    'c2,Other,,,S-5,', // 6: c2 itself is fine
    'c3,,,,S-9,', // 7: no name on any row of c3
  ].join('\n');
  const { customers, problems } = parseCustomersCsv(text, 'f.csv');
  assert.deepEqual(customers, [
    {
      id: 'c1',
      name: 'Brasserie',
      phone: '+33148621015',
      contract: 'standard',
      source: 'directory',
      assets: [
        { serial: 'WM-1', model: 'Atlas' },
        { serial: 'IM-2', model: 'Scotsman' },
      ],
    },
    { id: 'c2', name: 'Other', source: 'directory', assets: [{ serial: 'S-5' }] },
  ]);
  assert.deepEqual(
    problems.map((p) => p.line),
    [4, 5, 7],
  );
  assert.match(problems[0].message, /contract "gold" differs from line 2 \("standard"\)/);
  assert.match(problems[1].message, /serial wm-1 is already listed on line 2/);
  assert.match(problems[2].message, /c3 has no name/);
});

test('customers csv - header problems: unknown columns ignored, missing or doubled ones stop the file', () => {
  const unknown = parseCustomersCsv('id,name,fax\nc1,A,0102', 'f.csv');
  assert.deepEqual(
    unknown.customers.map((c) => c.id),
    ['c1'],
  );
  assert.equal(unknown.problems.length, 1);
  assert.equal(unknown.problems[0].line, 1);
  assert.match(unknown.problems[0].message, /unknown column "fax"/);
  for (const [text, why] of [
    ['name,phone\nA,+33612345678', /no "id" column/],
    ['id,name,Name\nc1,A,B', /column "name" appears twice/],
    ['', /no header row/],
    ['\n,,\n', /no header row/],
  ] as const) {
    const r = parseCustomersCsv(text, 'f.csv');
    assert.deepEqual(r.customers, [], text);
    assert.equal(r.problems.length, 1, text);
    assert.match(r.problems[0].message, why);
  }
});
