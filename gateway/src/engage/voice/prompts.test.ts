import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { memoryLogger } from '../../core/log.js';
import { PromptStore, type PromptStoreOptions } from './prompts.js';

let dir: string;
let runs: string;
let espeak: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigie-prompts-'));
  runs = join(dir, 'runs.log');
  // The real espeak-ng behind a wrapper that counts its runs.
  espeak = join(dir, 'espeak-counting');
  await writeFile(espeak, `#!/bin/sh\necho run >> '${runs}'\nexec espeak-ng "$@"\n`);
  await chmod(espeak, 0o755);
});
after(() => rm(dir, { recursive: true, force: true }));

const store = (over: Partial<PromptStoreOptions> = {}) =>
  new PromptStore({
    dir: join(dir, 'cache'),
    espeak,
    urlTtl: 15 * 60_000,
    voices: { en: 'en-gb', fr: 'fr-fr' },
    publicUrl: 'https://gw.example/',
    secret: 'prompt-secret-of-the-test',
    ...over,
  });

const runCount = async () =>
  (await readFile(runs, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;

test('prompts - espeak-ng makes a WAV once per text and language; later calls use the cache', async () => {
  const s = store();
  const [a, b] = await Promise.all([
    s.prepare('Door G12 held open.', 'en'),
    s.prepare('Door G12 held open.', 'en'),
  ]);
  assert.ok(a);
  assert.equal(a, b);
  assert.equal(await runCount(), 1, 'two calls at once run espeak-ng once');
  const wav = await s.read(a);
  assert.ok(wav && wav.length > 1000);
  assert.equal(wav.toString('latin1', 0, 4), 'RIFF');
  assert.equal(wav.toString('latin1', 8, 12), 'WAVE');
  // A new store on the same directory (a restart) finds it too.
  assert.equal(await store().prepare('Door G12 held open.', 'en'), a);
  assert.equal(await runCount(), 1);
  const fr = await s.prepare('Door G12 held open.', 'fr');
  assert.ok(fr && fr !== a, 'another language is another prompt');
  assert.equal(await runCount(), 2);
  const files = await readdir(join(dir, 'cache'));
  assert.ok(
    files.every((f) => f.endsWith('.wav')),
    `no temporary file is left: ${files.join(', ')}`,
  );
});

test('prompts - a signed URL is accepted until it expires; a tampered one never', async () => {
  const s = store();
  const id = (await s.prepare('Smoke in zone B.', 'en')) ?? '';
  const now = 1_700_000_000_000;
  const url = new URL(s.url(id, now));
  assert.equal(url.origin + url.pathname, `https://gw.example/hooks/prompts/${id}.wav`);
  const exp = url.searchParams.get('exp') ?? '';
  const sig = url.searchParams.get('sig') ?? '';
  assert.equal(Number(exp), (now + 15 * 60_000) / 1000);
  assert.equal(s.verify(id, exp, sig, now), true);
  assert.equal(s.verify(id, exp, sig, now + 15 * 60_000), true);
  assert.equal(s.verify(id, exp, sig, now + 15 * 60_000 + 1000), false, 'expired');
  assert.equal(s.verify(id, String(Number(exp) + 3600), sig, now), false, 'exp moved');
  assert.equal(
    s.verify(
      id,
      exp,
      sig.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')),
      now,
    ),
    false,
  );
  assert.equal(s.verify('0'.repeat(20), exp, sig, now), false, 'another prompt');
  assert.equal(store({ secret: 'another-secret' }).verify(id, exp, sig, now), false);
  assert.equal(await s.read('../../etc/passwd'), undefined);
});

test('prompts - the integrator WAV is used when it is one; otherwise a generated prompt', async () => {
  const s = store();
  const own = join(dir, 'door-en.wav');
  const generated = (await s.prepare('Door open.', 'en')) ?? '';
  await writeFile(own, (await s.read(generated)) ?? '');
  const before = await runCount();
  const id = await s.prepare('Door open.', 'en', own);
  assert.ok(id && id !== generated);
  assert.deepEqual(await s.read(id), await readFile(own));
  assert.equal(await runCount(), before, 'no espeak-ng run for a recorded prompt');
  const notWav = join(dir, 'notes.txt');
  await writeFile(notWav, 'not a wav at all');
  assert.equal(await s.prepare('Door open.', 'en', notWav), generated);
  assert.equal(await s.prepare('Door open.', 'en', join(dir, 'missing.wav')), generated);
});

test('prompts - without espeak-ng the call falls back to text-to-speech, logged once', async () => {
  const logger = memoryLogger();
  const s = store({ espeak: join(dir, 'no-such-espeak'), logger, dir: join(dir, 'cache2') });
  assert.equal(await s.prepare('Water leak.', 'en'), undefined);
  assert.equal(await s.prepare('Water leak again.', 'en'), undefined);
  assert.equal(logger.lines.filter((l) => l.includes('not installed')).length, 1);
  const failing = store({ espeak: '/bin/false', dir: join(dir, 'cache3') });
  assert.equal(await failing.prepare('Water leak.', 'en'), undefined);
});
