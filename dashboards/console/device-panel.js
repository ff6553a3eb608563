// One device, opened from the device list or the plan: its status, values, open incidents, camera
// and recent values as charts.

import { h, isObject, mount, safeUrl } from './dom.js';
import { fmtNumber, fmtWhen, t } from './i18n.js';
import { chartFields, historyPanel } from './history.js';
import { icon } from './icons.js';
import { kindLabel, severityBadge, stateBadge, valueChips } from './labels.js';
import { batteryLine, seenLine, statusLine } from './devices.js';

export function createDevicePanel(ctx) {
  const el = h('aside', { class: 'device-panel', testid: 'device-panel', hidden: true });
  let id = '';
  let history;
  let lastSig = '';

  function draw() {
    const d = ctx.store.device(id);
    if (!d) {
      mount(el, h('p', { class: 'muted' }, id));
      return;
    }
    const incidents = ctx.store
      .incidents()
      .filter((i) => i.deviceId === d.id && (i.state === 'open' || i.state === 'acknowledged'));
    const loc = isObject(d.location) ? d.location : undefined;
    const cam = isObject(d.camera) ? d.camera : undefined;
    const stream = cam ? safeUrl(cam.stream, ['http:', 'https:', 'rtsp:', 'rtsps:']) : undefined;
    const sip = isObject(d.speaker) ? safeUrl(d.speaker.sip, ['sip:', 'sips:']) : undefined;
    if (!history) {
      history = historyPanel(ctx.api, d.id, chartFields(d.values));
    }
    mount(
      el,
      h(
        'div',
        { class: 'panel device-detail' },
        h(
          'div',
          { class: 'detail-head' },
          h(
            'a',
            { class: 'btn btn-small', href: ctx.closeDeviceHref(), testid: 'device-close' },
            `✕ ${t('action.close')}`,
          ),
          h('span', { class: 'device-kind' }, kindLabel(d.kind)),
        ),
        h('h2', { testid: 'device-panel-name' }, d.name),
        h('p', { class: 'device-lines' }, statusLine(d), batteryLine(d), seenLine(d)),
        h(
          'p',
          { class: 'muted' },
          d.zone,
          loc?.label ? ` · ${loc.label}` : '',
          loc?.floor !== undefined ? ` · ${t('detail.floor', { n: loc.floor })}` : '',
          loc && Number.isFinite(loc.lat) ? ` · ${fmtNumber(loc.lat, 5)}, ${fmtNumber(loc.lon, 5)}` : '',
        ),
        h('div', { class: 'device-values' }, valueChips(d.values)),
        incidents.length > 0
          ? h(
              'ul',
              { class: 'device-incidents' },
              incidents.map((i) =>
                h(
                  'li',
                  {},
                  h(
                    'a',
                    { href: ctx.incidentHref(i.id) },
                    severityBadge(i.severity),
                    ' ',
                    stateBadge(i.state),
                    ' ',
                    i.ruleName ?? i.ruleId,
                    ' · ',
                    fmtWhen(i.openedAt),
                  ),
                ),
              ),
            )
          : null,
        h(
          'p',
          { class: 'device-links' },
          stream
            ? h(
                'a',
                { class: 'btn btn-small', href: stream, target: '_blank', rel: 'noopener noreferrer' },
                icon('play'),
                t('detail.stream'),
              )
            : null,
          sip ? h('a', { class: 'btn btn-small', href: sip }, icon('mic'), t('detail.talk')) : null,
        ),
      ),
      history.el,
    );
    ctx.tick();
  }

  return {
    el,
    show(next) {
      if (!next) {
        this.hide();
        return;
      }
      if (next !== id) {
        history?.dispose();
        history = undefined;
        id = next;
        lastSig = '';
      }
      el.hidden = false;
      this.changed();
    },
    hide() {
      history?.dispose();
      history = undefined;
      id = '';
      el.hidden = true;
      el.replaceChildren();
    },
    /** Redraws when the device or its incidents changed; the charts are kept. */
    changed() {
      if (!id) return;
      const d = ctx.store.device(id);
      const sig = JSON.stringify([
        d,
        ctx.store
          .incidents()
          .filter((i) => i.deviceId === id)
          .map((i) => [i.id, i.state, i.updatedAt]),
      ]);
      if (sig === lastSig) return;
      lastSig = sig;
      draw();
    },
    relabel() {
      history?.dispose();
      history = undefined;
      lastSig = '';
      this.changed();
    },
    get id() {
      return id;
    },
  };
}
