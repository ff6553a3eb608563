import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeGsm, encodeGsm, MAX_SMS_CHARS, toGsmText } from './gsm-text.js';

test('gsm text - letters of the default alphabet are kept, accents it lacks are stripped', () => {
  const cases: [string, string][] = [
    ['Porte ouverte à l’entrée B', "Porte ouverte à l'entrée B"],
    ['Fenêtre forcée, Noël, Ça', 'Fenetre forcée, Noel, Ça'],
    ['ç â ô î û ë ï', 'c a o i u e i'],
    ['Œuvre cœur', 'OEuvre coeur'],
    ['Temp 32.5°C — seuil 30 [zone {2}] ~ ok', 'Temp 32.5oC - seuil 30 (zone (2)) - ok'],
    ['Coût 5 €', 'Coût 5 EUR'.replace('û', 'u')],
    ['alerte 🔥 ici', 'alerte ? ici'],
    ['ligne 1\r\nligne 2\rligne 3', 'ligne 1\nligne 2\nligne 3'],
    ['a@b $5 _x_ £ ¥ ß ÆØÅ Ñ ü ¿¡ §', 'a@b $5 _x_ £ ¥ ß ÆØÅ Ñ ü ¿¡ §'],
  ];
  for (const [input, want] of cases) assert.equal(toGsmText(input), want, input);
});

test('gsm text - Ctrl-Z and ESC letters cannot be written in text mode', () => {
  // Ξ is 0x1A (Ctrl-Z): written as such it would end the message early.
  assert.equal(toGsmText('ΞΔΩ'), '?ΔΩ');
  assert.ok(!encodeGsm(toGsmText('Ξ\x1b\x1a')).some((b) => b === 0x1a || b === 0x1b));
});

test('gsm text - longer than 160 characters is cut and ends in ...', () => {
  const long = 'Alarme incendie bâtiment A. '.repeat(10);
  const out = toGsmText(long);
  assert.equal(out.length, MAX_SMS_CHARS);
  assert.ok(out.endsWith('...'));
  assert.ok(out.startsWith('Alarme incendie batiment A. Alarme'));
  assert.equal(toGsmText('x'.repeat(160)), 'x'.repeat(160));
  // Substitutes that grow the text count after they are made.
  assert.equal(toGsmText('€'.repeat(60)).length, MAX_SMS_CHARS);
});

test('gsm text - encoding uses the GSM codes, not ASCII', () => {
  assert.deepEqual(
    [...encodeGsm('@$_éàÉ\nA a0')],
    [0x00, 0x02, 0x11, 0x05, 0x7f, 0x1f, 0x0a, 0x41, 0x20, 0x61, 0x30],
  );
  assert.deepEqual([...encodeGsm('{')], [0x3f]);
});

test('gsm text - decoding reads GSM codes and the extension table', () => {
  assert.equal(decodeGsm('\x00\x02\x11\x05\x7f'), '@$_éà');
  assert.equal(decodeGsm('ACK 4821'), 'ACK 4821');
  assert.equal(decodeGsm('10\x1be \x1b<x\x1b>'), '10€ [x]');
  // Codes that ASCII reads otherwise: 0x24 is ¤ and 0x40 is ¡ in the GSM alphabet.
  assert.equal(decodeGsm('\x24\x40\x5b\x7b'), '¤¡Ää');
  for (const s of ['Fenêtre forcée', 'a@b $5 _x_', 'ÆØÅ Ñ ü']) {
    const gsm = toGsmText(s);
    assert.equal(decodeGsm(encodeGsm(gsm).toString('latin1')), gsm);
  }
});
