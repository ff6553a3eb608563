import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dial, gather, hangup, message, pause, play, redirect, say, sip, twiml } from './twiml.js';
import { findAll, parseXml, readTwiml, textOf, TwimlError } from './twiml-read.js';

test('twiml - builds the voice menu: verbs in order, nesting, attributes', () => {
  const xml = twiml(
    gather(
      { input: 'dtmf', numDigits: 1, action: 'https://gw.example/hooks/twilio/voice/d1/menu', timeout: 6 },
      play('https://gw.example/hooks/prompts/ab.wav?exp=1&sig=2'),
      say('Press 1', { language: 'en-GB' }),
    ),
    pause(1),
    redirect('https://gw.example/hooks/twilio/voice/d1?n=1', { method: 'POST' }),
    hangup(),
  );
  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?><Response><Gather /);
  const doc = readTwiml(xml, 'voice');
  const names = doc.children.map((c) => (typeof c === 'string' ? '#text' : c.name));
  assert.deepEqual(names, ['Gather', 'Pause', 'Redirect', 'Hangup']);
  const g = findAll(doc, 'Gather')[0];
  assert.deepEqual(g.attrs, {
    input: 'dtmf',
    numDigits: '1',
    action: 'https://gw.example/hooks/twilio/voice/d1/menu',
    timeout: '6',
  });
  assert.equal(textOf(findAll(doc, 'Play')[0]), 'https://gw.example/hooks/prompts/ab.wav?exp=1&sig=2');
  assert.ok(xml.includes('?exp=1&amp;sig=2'), 'the & of a URL is escaped in the document');
});

test('twiml - text that looks like markup stays text; control bytes are dropped', () => {
  const hostile = `Door "G12" <Hangup/> & 'co' ]]> \u0000\u0007end`;
  const xml = twiml(say(hostile, { language: 'fr-FR' }), message(hostile));
  const doc = parseXml(xml);
  assert.equal(findAll(doc, 'Hangup').length, 0);
  assert.equal(textOf(findAll(doc, 'Say')[0]), `Door "G12" <Hangup/> & 'co' ]]> end`);
  assert.equal(findAll(doc, 'Say')[0].attrs.language, 'fr-FR');
  assert.ok(!xml.includes('\u0000'));
});

test('twiml - dial to a SIP speaker, messaging reply, empty response', () => {
  const voice = readTwiml(
    twiml(say('Connecting.'), dial({ timeout: 20 }, sip('sip:speaker-g12@pbx.example')), hangup()),
    'voice',
  );
  assert.equal(textOf(findAll(voice, 'Sip')[0]), 'sip:speaker-g12@pbx.example');
  const sms = readTwiml(twiml(message('Acknowledged: door G12')), 'messaging');
  assert.equal(textOf(findAll(sms, 'Message')[0]), 'Acknowledged: door G12');
  assert.equal(twiml(), '<?xml version="1.0" encoding="UTF-8"?><Response/>');
});

test('twiml reader - refuses what Twilio refuses', () => {
  const bad: [string, 12100 | 12200][] = [
    ['<Response><Say>unclosed</Response>', 12100],
    ['<Response><Say>a & b</Say></Response>', 12100],
    ['<Response><Say a=1>x</Say></Response>', 12100],
    ['<Response/><Response/>', 12100],
    ['<Respons><Hangup/></Respons>', 12200],
    ['<Response><Shout>x</Shout></Response>', 12200],
    ['<Response><Gather numDigits="one"/></Response>', 12200],
    ['<Response><Gather><Hangup/></Gather></Response>', 12200],
    ['<Response><Play>not a url</Play></Response>', 12200],
    ['<Response><Dial><Sip>tel:123</Sip></Dial></Response>', 12200],
    ['<Response>stray text<Hangup/></Response>', 12200],
    ['<Response><Say/></Response>', 12200],
  ];
  for (const [xml, code] of bad) {
    assert.throws(
      () => readTwiml(xml, 'voice'),
      (e: unknown) => e instanceof TwimlError && e.code === code,
      xml,
    );
  }
  assert.throws(() => readTwiml('<Response><Say>x</Say></Response>', 'messaging'), TwimlError);
});
