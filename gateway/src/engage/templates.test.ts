import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { Incident } from '../route/model.js';
import {
  checkTemplates,
  humanDuration,
  renderAlert,
  renderText,
  templatesSchema,
  varsFromIncident,
  type AlertVars,
  type Templates,
} from './templates.js';
import { BUILTIN_TEXTS } from './templates-default.js';

// 14:05 in Paris (UTC+2 in June).
const OPENED = Date.UTC(2024, 5, 3, 12, 5);

const aed: AlertVars = {
  device: 'AED 14',
  place: 'Hall B, pillar 14',
  zone: 'Hall B',
  ackCode: '4821',
  severity: 'critical',
  rule: 'AED removed',
  openedAt: OPENED,
  timezone: 'Europe/Paris',
  reason: 'present = false',
  state: 'open',
  camera: 'https://cam.example/hall-b/stream',
  snapshot: 'https://cam.example/hall-b/snap.jpg',
  speaker: 'sip:aed14@pbx.example',
  incidentUrl: 'https://vigie.example/incidents/inc_1',
};

const fridge: AlertVars = {
  device: 'Fridge 2',
  place: 'Kitchen',
  zone: 'Kitchen',
  ackCode: '1234',
  severity: 'warning',
  rule: 'Fridge too warm',
  openedAt: OPENED,
  timezone: 'Europe/Paris',
  reason: 'celsius 31.2 > 28 for 5m',
  state: 'open',
  durationMs: 125_000,
  value: { field: 'celsius', value: 31.2 },
};

const render = (channel: string, language: string, vars: AlertVars = aed) =>
  renderAlert(undefined, undefined, channel, language, vars);

// GSM 03.38 basic alphabet: what fits 160 characters in one SMS.
const GSM7 = /^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà]*$/;

test('templates - built-in SMS carries device, place, reason, camera, speaker and the ack instruction', () => {
  const en = render('sms', 'en');
  assert.equal(en.language, 'en');
  for (const part of ['AED 14', 'Hall B, pillar 14', 'present = false', aed.camera!, aed.speaker!])
    assert.ok(en.text.includes(part), `${part} missing from: ${en.text}`);
  assert.match(en.text, /^Critical: /);
  assert.match(en.text, /Reply 1 or ACK 4821$/);
  const fr = render('sms', 'fr');
  assert.equal(fr.language, 'fr');
  assert.match(fr.text, /^Critique : /);
  assert.match(fr.text, /Caméra : https:\/\/cam\.example\/hall-b\/stream/);
  assert.match(fr.text, /Répondez 1 ou ACK 4821$/);
});

test('templates - built-in voice text is natural to hear and never says a link', () => {
  const en = render('voice', 'en');
  assert.equal(en.text, 'Critical alert. AED removed: AED 14, Hall B, pillar 14.');
  const fr = render('voice', 'fr', fridge);
  assert.equal(
    fr.text,
    'Alerte vigilance. Fridge too warm : Fridge 2, Kitchen. Valeur : 31,2 degrés Celsius. ' +
      'Depuis 2 minutes et 5 secondes.',
  );
  assert.match(
    render('voice', 'en', fridge).text,
    /Reading: 31\.2 degrees Celsius\. For 2 minutes and 5 seconds\.$/,
  );
  for (const language of ['en', 'fr'])
    for (const vars of [aed, { ...aed, count: 3 }]) {
      const t = render('voice', language, vars).text;
      assert.doesNotMatch(t, /https?:|sips?:|\{|\[/, t);
    }
});

test('templates - built-in e-mail has a subject, everything in the body, and an escaped HTML version', () => {
  const en = render('email', 'en', { ...aed, device: 'AED <14> & co' });
  assert.equal(en.subject, '[Vigie] Critical: AED removed - AED <14> & co (Hall B, pillar 14)');
  for (const part of [aed.camera!, aed.snapshot!, aed.speaker!, aed.incidentUrl!, 'Opened at: 14:05', '4821'])
    assert.ok(en.text.includes(part), `${part} missing from: ${en.text}`);
  assert.ok(en.html);
  assert.ok(en.html.includes('AED &lt;14&gt; &amp; co'));
  assert.ok(!en.html.includes('<14>'));
  assert.ok(en.html.includes(`<a href="${aed.incidentUrl}">${aed.incidentUrl}</a>`));
  assert.ok(en.html.includes('<a href="sip:aed14@pbx.example">'));
  assert.match(en.html, /<html lang="en">/);
  const fr = render('email', 'fr', fridge);
  assert.equal(fr.subject, '[Vigie] Vigilance : Fridge too warm - Fridge 2 (Kitchen)');
  assert.match(fr.text, /^Alerte vigilance : Fridge too warm\n/);
  assert.match(fr.text, /\nValeur : 31,2 °C\nDepuis : 2 min 5 s\nDébut : 14:05\n/);
  // No camera, speaker or incident link: their lines are gone, not left as "Caméra : ".
  assert.doesNotMatch(fr.text, /Caméra|Image|Haut-parleur|Incident/);
  assert.doesNotMatch(fr.text, /\n\n\n/);
  assert.match(fr.html!, /<html lang="fr">/);
});

test('templates - built-in modem SMS fits one GSM-7 message and carries no link', () => {
  for (const language of ['en', 'fr'])
    for (const vars of [aed, fridge, { ...aed, count: 12 }]) {
      const t = render('modem', language, vars).text;
      assert.ok(t.length <= 160, `${t.length} characters: ${t}`);
      assert.match(t, GSM7, t);
      assert.doesNotMatch(t, /https?:|sip:/);
    }
  assert.match(render('modem', 'fr').text, /à 14:05\. Répondez 1 ou ACK 4821$/);
});

test('templates - French output is French: no English frame words, localised severity and numbers', () => {
  const english =
    /\b(Reply|Camera|Speaker|Critical|Warning|alert|What happened|Opened at|Reading|For|incidents in)\b/;
  for (const channel of ['sms', 'modem', 'voice', 'email', 'webhook', 'console'])
    for (const vars of [aed, fridge, { ...aed, count: 4 }]) {
      const r = render(channel, 'fr', vars);
      assert.doesNotMatch(`${r.subject ?? ''}\n${r.text}`, english, `${channel}: ${r.text}`);
    }
  const words = { critical: 'Critique', major: 'Majeure', minor: 'Mineure', warning: 'Vigilance' };
  for (const [severity, word] of Object.entries(words))
    assert.match(render('sms', 'fr', { ...aed, severity }).text, new RegExp(`^${word} : `));
  assert.match(
    renderAlert(undefined, undefined, 'email', 'fr', { ...aed, state: 'acknowledged' }).text,
    /Alerte critique/,
  );
  assert.equal(renderText('{state}', { state: 'acquittée' }), 'acquittée');
});

test('templates - grouped alerts use {count} and the grouped texts', () => {
  const en = render('sms', 'en', { ...aed, count: 5 });
  assert.equal(
    en.text,
    `Critical: AED removed - 5 incidents in Hall B. ${aed.incidentUrl} Reply 1 or ACK 4821`,
  );
  const fr = render('email', 'fr', { ...aed, count: 5 });
  assert.equal(fr.subject, '[Vigie] Critique : AED removed - 5 incidents dans la zone Hall B');
  const site: Templates = {
    door: {
      en: { text: 'Door {device} open.', grouped: { text: '{count} doors opened in {zone}[: {incident}]' } },
    },
  };
  assert.equal(
    renderAlert(site, 'door', 'sms', 'en', { ...aed, count: 3 }).text,
    `3 doors opened in Hall B: ${aed.incidentUrl}`,
  );
  // count 1 is a single alert.
  assert.equal(renderAlert(site, 'door', 'sms', 'en', { ...aed, count: 1 }).text, 'Door AED 14 open.');
  // A template without grouped texts falls back to the built-in grouped ones, not to its single text.
  const noGroup: Templates = { door: { en: { text: 'Door {device} open.' } } };
  assert.match(renderAlert(noGroup, 'door', 'sms', 'en', { ...aed, count: 3 }).text, /3 incidents in Hall B/);
});

const site: Templates = {
  'door-held': {
    en: {
      text: 'Door {device} ({place}) open for {duration}.[ Camera: {camera}.] Reply 1 or ACK {ackCode}.',
      voice: 'Door {device} in {place} has been open for {duration}.',
      voiceFile: 'prompts/door-held-en.wav',
      email: { subject: 'Door {device} open' },
    },
    fr: {
      text: 'Porte {device} ({place}) ouverte depuis {duration}.[ Caméra : {camera}.] Répondez 1 ou ACK {ackCode}.',
      modem: 'Porte {device} ouverte. ACK {ackCode}',
    },
  },
};
const door: AlertVars = { ...aed, device: 'D3', place: 'Lobby', durationMs: 125_000, camera: 'https://c/s' };

test('templates - fallback chain: channel text, then text, then the default language, then built-in', () => {
  // Own channel text.
  assert.equal(
    renderAlert(site, 'door-held', 'voice', 'en', door).text,
    'Door D3 in Lobby has been open for 2 minutes and 5 seconds.',
  );
  // No sms text: `text`.
  assert.equal(
    renderAlert(site, 'door-held', 'sms', 'en', door).text,
    'Door D3 (Lobby) open for 2 min 5 s. Camera: https://c/s. Reply 1 or ACK 4821.',
  );
  // Modem: its own text, else sms, else text.
  assert.equal(renderAlert(site, 'door-held', 'modem', 'fr', door).text, 'Porte D3 ouverte. ACK 4821');
  assert.match(renderAlert(site, 'door-held', 'modem', 'en', door).text, /^Door D3 \(Lobby\)/);
  // French voice: no voice text in fr, so fr `text`, spoken: link segments vanish, durations spelled out.
  const frVoice = renderAlert(site, 'door-held', 'voice', 'fr', door);
  assert.equal(
    frVoice.text,
    'Porte D3 (Lobby) ouverte depuis 2 minutes et 5 secondes. Répondez 1 ou ACK 4821.',
  );
  assert.equal(frVoice.language, 'fr');
  assert.equal(frVoice.voiceFile, undefined, 'the English recording is not played to a French speaker');
  assert.equal(renderAlert(site, 'door-held', 'voice', 'en', door).voiceFile, 'prompts/door-held-en.wav');
  assert.equal(renderAlert(site, 'door-held', 'sms', 'en', door).voiceFile, undefined);
  // A language the template lacks (and that Vigie does not know): the default language's text.
  const de = renderAlert(site, 'door-held', 'sms', 'de', door);
  assert.equal(de.language, 'en');
  assert.match(de.text, /^Door D3/);
  assert.equal(renderAlert(site, 'door-held', 'sms', 'de', door, 'fr').language, 'fr');
  assert.equal(renderAlert(site, 'door-held', 'sms', 'fr-CA', door).language, 'fr');
  // E-mail: subject from the template, body from `text`; the French one gets the French built-in subject.
  const mail = renderAlert(site, 'door-held', 'email', 'en', door);
  assert.equal(mail.subject, 'Door D3 open');
  assert.match(mail.text, /^Door D3 \(Lobby\) open for 2 min 5 s\./);
  assert.equal(
    renderAlert(site, 'door-held', 'email', 'fr', door).subject,
    '[Vigie] Critique : AED removed - D3 (Lobby)',
  );
  // Only fr in the template, English reader, default language fr: the French text.
  const frOnly: Templates = { t: { fr: { text: 'Porte {device}.' } } };
  assert.equal(renderAlert(frOnly, 't', 'sms', 'en', door, 'fr').text, 'Porte D3.');
  // Unknown template, or none: built-in.
  assert.match(renderAlert(site, 'nope', 'sms', 'en', door).text, /^Critical: AED removed\. D3 \(Lobby\)/);
  assert.match(renderAlert(undefined, undefined, 'webhook', 'fr', door).text, /^Critique : AED removed - D3/);
});

test('templates - optional segments vanish with their text when a placeholder is empty', () => {
  const vals = { device: 'D3', camera: '', place: 'Lobby', speaker: 'sip:x@y' };
  const cases: [string, string][] = [
    ['Door {device}. [Camera: {camera}.] Reply.', 'Door D3. Reply.'],
    ['Door {device}.[ Camera: {camera}.] Reply.', 'Door D3. Reply.'],
    ['Door {device}[ ({camera})]: open', 'Door D3: open'],
    ['[Camera: {camera}] Door {device}', 'Door D3'],
    ['Door {device} [Camera: {camera}]', 'Door D3'],
    ['Door {device} [{camera}] [{camera}] end', 'Door D3 end'],
    ['A\n[Camera: {camera}]\nB', 'A\nB'],
    ['A\n[Speaker: {speaker}]\nB', 'A\nSpeaker: sip:x@y\nB'],
    ['Door {device}[ in {place}]', 'Door D3 in Lobby'],
    ['[Place {place}, camera {camera}] end', 'end'],
    ['[Vigie] {device}', '[Vigie] D3'],
    ['{{literal}} [[x]] {device}', '{literal} [x] D3'],
    ['{Device} {DEVICE} {place}', 'D3 D3 Lobby'],
    ['Camera: {camera}.', 'Camera: .'],
  ];
  for (const [src, want] of cases) assert.equal(renderText(src, vals), want, src);
  assert.equal(renderText('{Severity}! {SEVERITY}', { severity: 'critique' }), 'Critique! CRITIQUE');
});

test('templates - durations read naturally in both languages', () => {
  const cases: [number, string, string, string, string][] = [
    [0, '0 s', '0 seconds', '0 s', '0 secondes'],
    [1_000, '1 s', '1 second', '1 s', '1 seconde'],
    [45_900, '45 s', '45 seconds', '45 s', '45 secondes'],
    [60_000, '1 min', '1 minute', '1 min', '1 minute'],
    [125_000, '2 min 5 s', '2 minutes and 5 seconds', '2 min 5 s', '2 minutes et 5 secondes'],
    [3_780_000, '1 h 3 min', '1 hour and 3 minutes', '1 h 3 min', '1 heure et 3 minutes'],
    [3_600_000 + 59_000, '1 h', '1 hour', '1 h', '1 heure'],
    [2 * 86_400_000 + 4 * 3_600_000, '2 d 4 h', '2 days and 4 hours', '2 j 4 h', '2 jours et 4 heures'],
  ];
  for (const [ms, en, enSpoken, fr, frSpoken] of cases) {
    assert.equal(humanDuration(ms, 'en'), en);
    assert.equal(humanDuration(ms, 'en', true), enSpoken);
    assert.equal(humanDuration(ms, 'fr'), fr);
    assert.equal(humanDuration(ms, 'fr', true), frSpoken);
  }
  assert.equal(humanDuration(-5, 'en'), '');
});

test('templates - {time} is the local time of the opening in the site time zone', () => {
  const t = (timezone: string, language: string, channel = 'sms') =>
    renderAlert({ x: { en: { text: '{time}' }, fr: { text: '{time}' } } }, 'x', channel, language, {
      ...aed,
      timezone,
    }).text;
  assert.equal(t('Europe/Paris', 'en'), '14:05');
  assert.equal(t('America/New_York', 'en'), '08:05');
  assert.equal(t('Europe/Paris', 'fr', 'voice'), '14 h 05');
});

type Problem = { path: string; message: string; onKey: boolean };
function check(yaml: string, defaultLanguage = 'en'): Problem[] {
  const parsed = templatesSchema.safeParse(parseYaml(yaml));
  assert.ok(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues));
  const problems: Problem[] = [];
  checkTemplates(parsed.data, { defaultLanguage }, (path, message, onKey = false) =>
    problems.push({ path: path.join('.'), message, onKey }),
  );
  return problems;
}

test('templates - the example of the site file and the built-in texts pass the checks', () => {
  const example = `
door-held:
  en:
    text: "Door {device} ({place}) open for {duration}. [Camera: {camera}.] Reply 1 or ACK {ackCode}."
    sms: "Door {device} open. Reply 1 or ACK {ackCode}"
    voice: "Door {device} in {place} has been open for {duration}."
    voiceFile: prompts/door-held-en.wav
    email: { subject: "Door {device} open", body: "Door {device}\\n[Camera: {camera}]" }
  fr:
    text: "Porte {device} ({place}) ouverte depuis {duration}. [Caméra : {camera}.] Répondez 1 ou ACK {ackCode}."
`;
  assert.deepEqual(check(example), []);
  const builtin: Templates = {};
  for (const language of ['en', 'fr'] as const) {
    const { single, grouped } = BUILTIN_TEXTS[language];
    builtin.b = { ...builtin.b, [language]: { ...single, grouped } };
  }
  const problems: string[] = [];
  checkTemplates(builtin, { defaultLanguage: 'en' }, (p, m) => problems.push(`${p.join('.')}: ${m}`));
  assert.deepEqual(problems, []);
});

test('templates - each mistake is reported with its path and a message that says what to do', () => {
  const cases: [string, string, RegExp, boolean?][] = [
    [
      't: { en: { text: "Door {devise}" } }',
      'templates.t.en.text',
      /unknown placeholder \{devise\} \(known: device, place, zone,/,
    ],
    ['t: { en: { text: "Door {device" } }', 'templates.t.en.text', /unbalanced braces.*character 6/],
    ['t: { en: { text: "Door device}" } }', 'templates.t.en.text', /unbalanced braces: "\}" without "\{"/],
    [
      't: { en: { text: "Door [a {device}" } }',
      'templates.t.en.text',
      /unbalanced brackets: "\[" is not closed/,
    ],
    ['t: { en: { text: "Door ] {device}" } }', 'templates.t.en.text', /unbalanced brackets: "\]" without/],
    ['t: { en: { text: "[a [b] {device}]" } }', 'templates.t.en.text', /cannot be nested/],
    [
      't: { en: { text: "x", voice: "Door {device}. Camera {camera}" } }',
      'templates.t.en.voice',
      /\{camera\} is a link and cannot be spoken/,
    ],
    [
      't: { en: { text: "x", voice: "Door [{snapshot}]" } }',
      'templates.t.en.voice',
      /\{snapshot\} is a link and cannot be spoken/,
    ],
    ['t: { en: { text: "x", voice: "see https://x.y" } }', 'templates.t.en.voice', /cannot contain a link/],
    ['t: { en: { text: "Open: {incident}" } }', 'templates.t.en.text', /also spoken on voice calls/],
    [
      't: { en: { text: "x", grouped: { voice: "{speaker}" } } }',
      'templates.t.en.grouped.voice',
      /cannot be spoken/,
    ],
    [
      't: { en: { text: "x" }, de: { text: "Tür" } }',
      'templates.t.de',
      /unknown language "de" \(known: en, fr\)/,
      true,
    ],
    ['t: { fr: { text: "Porte" } }', 'templates.t', /needs texts in "en"/, true],
    [
      't: { en: { sms: "a", voice: "b" } }',
      'templates.t.en',
      /needs "text" .* missing: email\.body, webhook, console/,
    ],
    ['t: { en: { text: "x", email: {} } }', 'templates.t.en.email', /subject, a body or both/],
    [
      't: { en: { text: "x", email: { subject: "{nope}" } } }',
      'templates.t.en.email.subject',
      /unknown placeholder \{nope\}/,
    ],
    ['t: { en: { text: "x", voiceFile: prompts/a.mp3 } }', 'templates.t.en.voiceFile', /\.wav/],
  ];
  for (const [yaml, path, message, onKey = false] of cases) {
    const problems = check(yaml);
    assert.equal(problems.length, 1, `${yaml}: ${JSON.stringify(problems)}`);
    assert.equal(problems[0].path, path, yaml);
    assert.match(problems[0].message, message, yaml);
    assert.equal(problems[0].onKey, onKey, yaml);
  }
  // Links in `text` are fine in optional segments, or when there is a voice text.
  assert.deepEqual(check('t: { en: { text: "Open[: {incident}]" } }'), []);
  assert.deepEqual(check('t: { en: { text: "Open: {incident}", voice: "Open" } }'), []);
  // All channels but no `text` is enough; modem borrows sms.
  assert.deepEqual(check('t: { en: { sms: a, voice: b, email: { body: c }, webhook: d, console: e } }'), []);
});

test('templates - a template may be written only in the site language', () => {
  assert.deepEqual(check('t: { fr: { text: "Porte {device}" } }', 'fr'), []);
  assert.deepEqual(check('t: { fr: { text: "Porte {device}" } }', 'fr-FR'), []);
  const [p] = check('t: { fr: { text: "Porte {device}" } }', 'en');
  assert.equal(p.path, 'templates.t');
});

test('templates - the schema rejects unknown keys and bad ids', () => {
  const bad = templatesSchema.safeParse({ 'door held': { en: { text: 'x' } }, ok: { en: { txt: 'x' } } });
  assert.equal(bad.success, false);
  const issues = bad.error!.issues.map((i) => i.path.join('.'));
  assert.ok(issues.includes('door held'), JSON.stringify(issues));
  assert.ok(
    bad.error!.issues.some((i) => i.code === 'unrecognized_keys' && i.path.join('.') === 'ok.en'),
    JSON.stringify(bad.error!.issues),
  );
  assert.deepEqual(templatesSchema.parse(undefined), {});
});

test('templates - varsFromIncident takes place, camera, speaker and the reading from the incident', () => {
  const incident = {
    id: 'inc_1',
    site: 's',
    ruleId: 'fridge-warm',
    ruleName: 'Fridge too warm',
    deviceId: 'fridge-2',
    deviceName: 'Fridge 2',
    zone: 'Kitchen',
    severity: 'major',
    state: 'open',
    reason: 'celsius 31.2 > 28 for 5m',
    message: '',
    triggerTs: OPENED,
    openedAt: OPENED,
    escalationStep: 0,
    values: { celsius: 31.2, battery: 80 },
    context: {
      location: { lat: 1, lon: 2, label: 'Kitchen, back wall' },
      camera: { stream: 'rtsp://cam/1', snapshot: 'https://cam/1.jpg' },
      speaker: { sip: 'sip:k@pbx' },
    },
    updatedAt: OPENED,
  } as Incident;
  const vars = varsFromIncident(incident, { ackCode: '0042', timezone: 'Europe/Paris' });
  assert.equal(vars.place, 'Kitchen, back wall');
  assert.equal(vars.camera, 'rtsp://cam/1');
  assert.equal(vars.snapshot, 'https://cam/1.jpg');
  assert.equal(vars.speaker, 'sip:k@pbx');
  assert.deepEqual(vars.value, { field: 'celsius', value: 31.2 });
  assert.match(renderAlert(undefined, undefined, 'email', 'en', vars).text, /Reading: 31\.2 °C/);
  const bare = varsFromIncident(
    { ...incident, context: {}, values: { open: true } },
    {
      ackCode: '0042',
      timezone: 'UTC',
    },
  );
  assert.equal(bare.place, 'Kitchen');
  assert.equal(bare.value, undefined);
  assert.equal(
    renderAlert(undefined, undefined, 'sms', 'en', bare).text,
    'Major: Fridge too warm. Fridge 2 (Kitchen): celsius 31.2 > 28 for 5m. Reply 1 or ACK 0042',
  );
});
