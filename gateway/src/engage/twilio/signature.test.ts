import assert from 'node:assert/strict';
import { test } from 'node:test';
import twilio from 'twilio';
import { twilioSignature, verifyTwilioSignature } from './signature.js';

// The reference is Twilio's own helper library: whatever it computes, Twilio computes.

const TOKEN = '12345678901234567890123456789012';

const cases: { name: string; url: string; params: Record<string, string | string[]> }[] = [
  {
    name: 'an inbound SMS',
    url: 'https://gw.example.com/hooks/twilio/sms',
    params: {
      AccountSid: 'AC0123456789abcdef0123456789abcdef',
      From: '+33612345601',
      To: '+33700000000',
      Body: 'ACK 12',
      MessageSid: 'SM0123456789abcdef0123456789abcdef',
    },
  },
  {
    name: 'unicode and reserved characters',
    url: 'https://gw.example.com/hooks/twilio/sms',
    params: { Body: 'Reçu ✅ — porte G12 & caméra <ok> 100% 🚪', From: '+33612345601', a: '', Z: 'z' },
  },
  {
    name: 'a query string in the URL',
    url: 'https://gw.example.com/hooks/twilio/voice/dlv_1?n=2&x=a%20b',
    params: { CallSid: 'CA1', Digits: '1' },
  },
  {
    name: 'a repeated parameter',
    url: 'https://gw.example.com/hooks/twilio/status/dlv_1',
    params: { StatusCallbackEvent: ['ringing', 'answered', 'initiated', 'ringing'], CallStatus: 'ringing' },
  },
  {
    name: 'a GET (no parameters)',
    url: 'https://gw.example.com/hooks/prompts/ab.wav?exp=1&sig=2',
    params: {},
  },
];

for (const c of cases) {
  test(`signature - agrees with twilio-node for ${c.name}`, () => {
    const expected = twilio.getExpectedTwilioSignature(TOKEN, c.url, c.params);
    assert.equal(twilioSignature(TOKEN, c.url, c.params), expected);
    // The same parameters as a parsed form body, the way the webhook sees them.
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(c.params)) for (const x of [v].flat()) form.append(k, x);
    assert.equal(twilioSignature(TOKEN, c.url, form), expected);
    assert.equal(verifyTwilioSignature(TOKEN, expected, c.url, form), true);
    assert.equal(twilio.validateRequest(TOKEN, twilioSignature(TOKEN, c.url, form), c.url, c.params), true);
  });
}

test('signature - a changed parameter, URL, token or header is refused', () => {
  const { url, params } = cases[0];
  const good = twilio.getExpectedTwilioSignature(TOKEN, url, params);
  assert.equal(verifyTwilioSignature(TOKEN, good, url, { ...params, Body: 'ACK 13' }), false);
  assert.equal(verifyTwilioSignature(TOKEN, good, url + '?n=1', params), false);
  assert.equal(verifyTwilioSignature(TOKEN, good, url.replace('https', 'http'), params), false);
  assert.equal(verifyTwilioSignature('another-token', good, url, params), false);
  assert.equal(verifyTwilioSignature(TOKEN, undefined, url, params), false);
  assert.equal(verifyTwilioSignature(TOKEN, '', url, params), false);
  assert.equal(verifyTwilioSignature(TOKEN, good.slice(0, -2), url, params), false);
  const { From: _from, ...withoutFrom } = params;
  void _from;
  assert.equal(verifyTwilioSignature(TOKEN, good, url, withoutFrom), false);
});
