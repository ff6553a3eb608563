import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { FlowRuleDoc } from '../red/link.js';
import { openDatabase } from './db.js';
import { RuleSourceStore } from './rule-sources.js';

const dir = mkdtempSync(join(tmpdir(), 'vigie-sources-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const doc = (rule: string): FlowRuleDoc => ({
  doc: { rule, name: rule, severity: 'minor', listen: { devices: 'all', when: { status: 'offline' } } },
  nodes: { condition: `c-${rule}`, listen: 'l1' },
  flow: { id: 'tab1', label: 'Doors' },
});

describe('store - rule sources', () => {
  it('keeps the last saved set of each source across a reopen, and forgets a removed one', () => {
    let db = openDatabase(dir);
    let store = new RuleSourceStore(db);
    assert.deepEqual(store.load(), []);
    store.save('node-red', 'Embedded Node-RED', [doc('a')], 1000);
    store.save('node-red', 'Embedded Node-RED', [doc('a'), doc('b')], 2000);
    store.save('lab', 'Lab', [doc('c')], 3000);
    db.close();

    db = openDatabase(dir);
    store = new RuleSourceStore(db);
    assert.deepEqual(store.load(), [
      { id: 'lab', label: 'Lab', rules: [doc('c')], updatedAt: 3000 },
      { id: 'node-red', label: 'Embedded Node-RED', rules: [doc('a'), doc('b')], updatedAt: 2000 },
    ]);
    assert.equal(store.remove('lab'), true);
    assert.equal(store.remove('lab'), false);
    assert.deepEqual(
      store.load().map((s) => s.id),
      ['node-red'],
    );
    db.close();
  });
});
