// The header's live parts: the site and its clock, who is signed in (and at the keyboard), and the
// connection indicator with its reconnect countdown.

import { h, mount } from './dom.js';
import { fmtClock, language, t } from './i18n.js';

const $ = (id) => document.getElementById(id);

export function createHeader({ me, operator }) {
  const conn = $('conn');

  function drawConn(now = Date.now()) {
    const state = conn.dataset.state;
    const retryAt = Number(conn.dataset.retryAt || 0);
    conn.textContent =
      state === 'reconnecting'
        ? t('conn.reconnecting', { s: Math.max(0, Math.ceil((retryAt - now) / 1000)) })
        : t(`conn.${state}`);
  }

  return {
    /** 'connecting' | 'live' | 'reconnecting' | 'offline', as live.js reports it. */
    setConn(state, info) {
      conn.dataset.state = state;
      conn.dataset.retryAt = info.retryInMs ? String(Date.now() + info.retryInMs) : '';
      drawConn();
    },
    draw() {
      const who = me();
      $('site-name').textContent = who?.site?.name ?? '';
      const role = t(`role.${who?.role ?? 'viewer'}`);
      mount(
        $('who'),
        h('span', {}, t('header.signedIn', { name: who?.name ?? '', role })),
        operator() ? [h('br'), h('span', {}, t('header.as', { who: operator() }))] : null,
      );
      $('lang').value = language();
      drawConn();
    },
    tick(now) {
      const who = me();
      if (who) $('site-clock').textContent = `${fmtClock(now)} (${who.site?.timezone ?? 'UTC'})`;
      if (conn.dataset.state === 'reconnecting') drawConn(now);
    },
  };
}
