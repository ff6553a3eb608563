import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { ManualClock } from '../../core/clock.js';
import { VigieError } from '../../core/errors.js';
import { openDatabase, type Database } from '../../store/db.js';
import { cloudEvent } from './events.js';
import { Outbox } from './outbox.js';

const T0 = Date.UTC(2026, 0, 15, 8, 0, 0);
let dir: string;
let db: Database;
afterEach(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

function setup(): { outbox: Outbox; clock: ManualClock } {
  dir = mkdtempSync(join(tmpdir(), 'vigie-outbox-'));
  db = openDatabase(dir);
  const clock = new ManualClock(T0);
  return { outbox: new Outbox(db, clock), clock };
}

const event = (n: number, id?: string) =>
  cloudEvent({
    source: 'vigie://s1/gateway',
    type: 'incident.opened',
    subject: `inc_${n}`,
    site: 's1',
    time: T0,
    data: { n },
    id,
  });

test('outbox - events come back in commit order, with their JSON, until removed', () => {
  const { outbox, clock } = setup();
  const tx = db.transaction((from: number, to: number) => {
    for (let n = from; n < to; n++) outbox.append(`vigie.s1.incident.opened`, event(n));
  });
  tx(0, 3);
  clock.advance(1000);
  tx(3, 5);
  assert.equal(outbox.depth(), 5);
  const rows = outbox.peek(10);
  assert.deepEqual(
    rows.map((r) => (JSON.parse(r.data) as { data: { n: number } }).data.n),
    [0, 1, 2, 3, 4],
  );
  assert.ok(rows.every((r, i) => i === 0 || r.seq > rows[i - 1].seq));
  assert.equal(rows[0].subject, 'vigie.s1.incident.opened');
  assert.equal(rows[0].id, (JSON.parse(rows[0].data) as { id: string }).id);
  assert.equal(outbox.peek(2).length, 2);

  clock.advance(4000);
  assert.equal(outbox.oldestAge(), 5000);
  outbox.remove(rows.slice(0, 3).map((r) => r.seq));
  assert.equal(outbox.oldestAge(), 4000);
  assert.deepEqual(
    outbox.peek(10).map((r) => r.seq),
    rows.slice(3).map((r) => r.seq),
  );
  outbox.remove(rows.slice(3).map((r) => r.seq));
  assert.equal(outbox.depth(), 0);
  assert.equal(outbox.oldestAge(), 0);
});

test('outbox - appending outside a transaction is refused: the event could outlive its change', () => {
  const { outbox } = setup();
  assert.throws(
    () => outbox.append('vigie.s1.incident.opened', event(1)),
    (e: unknown) => e instanceof VigieError && e.code === 'VIGIE_ERR_STORE',
  );
  assert.equal(outbox.depth(), 0);
});

test('outbox - the same event id twice is kept once, without failing the change', () => {
  const { outbox } = setup();
  const results = db.transaction(() => [
    outbox.append('cc.interactions.s1', event(1, 'wi_inc_1')),
    outbox.append('cc.interactions.s1', event(2, 'wi_inc_1')),
  ])();
  assert.deepEqual(results, [true, false]);
  assert.equal(outbox.depth(), 1);
});

test('outbox - a failed attempt is recorded on the row that holds the queue up', () => {
  const { outbox } = setup();
  db.transaction(() => outbox.append('vigie.s1.incident.opened', event(1)))();
  const [row] = outbox.peek(1);
  outbox.markFailed(row.seq, 'TIMEOUT');
  outbox.markFailed(row.seq, 'TIMEOUT');
  assert.equal(outbox.peek(1)[0].attempts, 2);
  assert.equal(db.prepare('SELECT last_error FROM outbox').pluck().get(), 'TIMEOUT');
});
