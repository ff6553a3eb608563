// The cue for a critical incident nobody has acknowledged yet: a flashing banner naming it, the tab
// title, and beeps (WebAudio oscillators, no sound file to ship) repeated until someone acknowledges
// or mutes. Browsers only let a page make sound after a user gesture: the sign-in click counts; after
// a reload the console asks for one click, and says so, rather than staying silent unnoticed.

import { h, mount } from './dom.js';
import { icon } from './icons.js';
import { t } from './i18n.js';

const REPEAT_MS = 2500;
const TONES = [
  [880, 0],
  [660, 0.22],
  [880, 0.44],
];

export function createAlarm({ banner, soundButton, blockedButton, onOpenIncident, muted: initiallyMuted }) {
  let ctx;
  let muted = initiallyMuted;
  let active = [];
  let timer;

  function context() {
    if (!ctx) {
      const AC = window.AudioContext ?? window.webkitAudioContext;
      if (!AC) return undefined;
      ctx = new AC();
      ctx.addEventListener('statechange', refresh);
    }
    return ctx;
  }

  /** Call from a click or key handler: the browser allows sound from then on. */
  function unlock() {
    const c = context();
    if (c && c.state !== 'running') void c.resume().then(refresh, refresh);
    refresh();
  }

  function beep() {
    const c = context();
    if (!c || c.state !== 'running') return;
    const now = c.currentTime;
    for (const [freq, at] of TONES) {
      const osc = c.createOscillator();
      const gain = c.createGain();
      osc.type = 'square';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + at);
      gain.gain.exponentialRampToValueAtTime(0.25, now + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.18);
      osc.connect(gain).connect(c.destination);
      osc.start(now + at);
      osc.stop(now + at + 0.2);
    }
  }

  function refresh() {
    const running = ctx?.state === 'running';
    blockedButton.hidden = muted || running;
    // One button at a time: the one that asks for the click, or the mute toggle.
    soundButton.hidden = !blockedButton.hidden;
    mount(soundButton, icon(muted ? 'muted' : 'sound'), h('span', {}, t(muted ? 'sound.muted' : 'sound.on')));
    soundButton.title = t(muted ? 'sound.muted' : 'sound.on');
    soundButton.setAttribute('aria-pressed', String(muted));
    soundButton.classList.toggle('is-muted', muted);
    const ringing = active.length > 0 && !muted && running;
    soundButton.classList.toggle('is-ringing', ringing);
    document.body.dataset.alarm = active.length > 0 ? (ringing ? 'ringing' : 'silent') : 'none';
    if (ringing && !timer) {
      beep();
      timer = setInterval(beep, REPEAT_MS);
    } else if (!ringing && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  }

  function drawBanner() {
    if (active.length === 0) {
      banner.hidden = true;
      banner.replaceChildren();
      document.title = t('app.title');
      return;
    }
    const first = active[0];
    const place = first.context?.location?.label;
    mount(
      banner,
      h(
        'button',
        { type: 'button', class: 'banner-main', onclick: () => onOpenIncident(first.id) },
        h('span', { class: 'banner-icon', 'aria-hidden': 'true' }, '▲'),
        h(
          'span',
          { class: 'banner-text' },
          t('banner.critical', {
            rule: first.ruleName ?? first.ruleId,
            device: first.deviceName ?? first.deviceId,
          }),
          place ? ` · ${place}` : '',
        ),
      ),
      active.length > 1
        ? h('span', { class: 'banner-more' }, t('banner.more', { n: active.length - 1 }))
        : null,
    );
    banner.dataset.incident = first.id;
    banner.hidden = false;
    document.title = `▲ ${active.length} · ${t('app.title')}`;
  }

  soundButton.addEventListener('click', () => {
    muted = !muted;
    unlock();
    onMuteChange?.(muted);
  });
  blockedButton.addEventListener('click', unlock);
  // Any click or key in the page is a gesture that may start the sound. On `click`, not on
  // `pointerdown`: the header changes as the sound comes on, and a page that moves between a
  // finger's down and up loses that very click.
  const gesture = () => {
    if (ctx?.state !== 'running') unlock();
  };
  document.addEventListener('click', gesture, true);
  document.addEventListener('keydown', gesture, true);

  let onMuteChange;
  return {
    unlock,
    onMuteChange(fn) {
      onMuteChange = fn;
    },
    /** The critical incidents still open (not acknowledged), newest first. */
    update(incidents) {
      active = incidents
        .filter((i) => i.severity === 'critical' && i.state === 'open')
        .sort((a, b) => (b.openedAt ?? 0) - (a.openedAt ?? 0));
      drawBanner();
      refresh();
    },
    relabel() {
      drawBanner();
      refresh();
    },
    stop() {
      active = [];
      drawBanner();
      refresh();
      void ctx?.close();
      ctx = undefined;
    },
  };
}
