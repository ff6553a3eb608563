import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testSite } from '../route/testing.js';
import { recipientKey } from './channel.js';
import { expandStep } from './recipients.js';

const site = testSite();
const isConsole = (c: string) => c === 'console';

const cases: [string, string[], string[], string[]][] = [
  ['a team is expanded to its members', ['team:security'], ['sms'], ['sms>person:alice', 'sms>person:bob']],
  ['console addresses the team once', ['team:security'], ['console'], ['console>team:security']],
  [
    'a person named twice is notified once',
    ['team:security', 'person:alice'],
    ['sms'],
    ['sms>person:alice', 'sms>person:bob'],
  ],
  ['bare ids: person first, then team', ['carol', 'supervisors'], ['sms'], ['sms>person:carol']],
  ['bare team id', ['security'], ['console'], ['console>team:security']],
  ['several channels', ['person:carol'], ['console', 'sms'], ['console>person:carol', 'sms>person:carol']],
];

for (const [name, notify, via, want] of cases) {
  test(`recipients - ${name}`, () => {
    const got = expandStep(site, { afterMs: 0, notify, via }, { isConsole }).map(
      (p) => `${p.channel}>${recipientKey(p.recipient)}`,
    );
    assert.deepEqual(got, want);
  });
}

test('recipients - unknown names are reported and skipped; contact details are carried', () => {
  const unknown: string[] = [];
  const got = expandStep(
    site,
    { afterMs: 0, notify: ['person:nobody', 'team:ghosts', 'person:alice'], via: ['sms'] },
    { isConsole, onUnknown: (e) => unknown.push(e) },
  );
  assert.deepEqual(unknown, ['person:nobody', 'team:ghosts']);
  assert.deepEqual(got, [
    {
      channel: 'sms',
      // The site's language when the person has none: messages are rendered in it.
      recipient: { kind: 'person', id: 'alice', name: 'Alice', phone: '+33600000001', language: 'en' },
    },
  ]);
});
