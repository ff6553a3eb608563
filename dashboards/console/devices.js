// Every device by zone: online or offline (and why), battery, last values, last seen, and its open
// incidents. Problems sort first within a zone, so a dead door sensor is not lost among healthy ones.

import { h, mount } from './dom.js';
import { fmtAgo, t } from './i18n.js';
import { icon } from './icons.js';
import { isLowBattery, kindLabel, severityRank, valueChips } from './labels.js';

/** 'incident-critical' | ... | 'offline' | 'battery' | 'ok': what a device's colour says. */
export function deviceStatus(device, incidents) {
  const open = incidents.filter(
    (i) => i.deviceId === device.id && (i.state === 'open' || i.state === 'acknowledged'),
  );
  const worst = open.map((i) => i.severity).sort((a, b) => severityRank(a) - severityRank(b))[0];
  if (worst) return { status: `incident-${worst}`, open };
  if (!device.online) return { status: 'offline', open };
  if (isLowBattery(device.battery)) return { status: 'battery', open };
  return { status: 'ok', open };
}

export function statusLine(device) {
  if (!device.online) {
    const why = device.offlineReason
      ? t(`devices.offline.${device.offlineReason}`)
      : device.lastSeen
        ? t('devices.offline')
        : t('devices.offline.never');
    return h(
      'span',
      { class: 'dev-status dev-offline', testid: 'device-status', dataset: { status: 'offline' } },
      '⨯ ',
      why,
    );
  }
  return h(
    'span',
    { class: 'dev-status dev-online', testid: 'device-status', dataset: { status: 'online' } },
    '● ',
    t('devices.online'),
  );
}

export function batteryLine(device) {
  if (typeof device.battery !== 'number') return null;
  const low = isLowBattery(device.battery);
  return h(
    'span',
    { class: ['dev-battery', low && 'is-low'], testid: low ? 'battery-low' : undefined },
    icon('battery', { size: 16 }),
    ' ',
    low ? t('devices.batteryLow', { n: device.battery }) : t('devices.battery', { n: device.battery }),
  );
}

export function seenLine(device) {
  return h(
    'span',
    { class: 'dev-seen muted', dataset: device.lastSeen ? { ago: String(device.lastSeen) } : undefined },
    device.lastSeen ? t('devices.seen', { ago: fmtAgo(device.lastSeen) }) : t('devices.never'),
  );
}

const PROBLEM_RANK = {
  'incident-critical': 0,
  'incident-major': 1,
  offline: 2,
  'incident-minor': 3,
  battery: 4,
  'incident-info': 5,
  ok: 6,
};

export function createDevices(root, ctx) {
  const list = h('div', { class: 'zones', testid: 'devices' });
  mount(root, list);

  function draw() {
    const devices = ctx.store.devices();
    const incidents = ctx.store.incidents();
    const zones = new Map();
    for (const d of devices) {
      if (!zones.has(d.zone)) zones.set(d.zone, []);
      zones.get(d.zone).push({ d, ...deviceStatus(d, incidents) });
    }
    if (devices.length === 0) {
      mount(list, h('p', { class: 'muted' }, t('devices.empty')));
      return;
    }
    mount(
      list,
      [...zones.keys()].sort().map((zone) => {
        const rows = zones
          .get(zone)
          .sort(
            (a, b) => PROBLEM_RANK[a.status] - PROBLEM_RANK[b.status] || a.d.name.localeCompare(b.d.name),
          );
        const problems = rows.filter((r) => r.status !== 'ok').length;
        return h(
          'section',
          { class: 'zone', testid: 'zone', dataset: { zone } },
          h(
            'h2',
            { class: 'zone-title' },
            zone,
            h('span', { class: 'muted zone-count' }, ` · ${rows.length}`),
            problems > 0 ? h('span', { class: 'zone-problems' }, ` ⚠ ${problems}`) : null,
          ),
          h(
            'div',
            { class: 'device-grid' },
            rows.map((r) => tile(r)),
          ),
        );
      }),
    );
    ctx.tick();
  }

  function tile({ d, status, open }) {
    return h(
      'a',
      {
        class: ['card', 'device', `status-${status}`, ctx.selectedDevice() === d.id && 'is-selected'],
        href: ctx.deviceHref(d.id),
        testid: 'device',
        dataset: { id: d.id, status, online: String(d.online) },
      },
      h(
        'div',
        { class: 'device-top' },
        h('span', { class: 'device-kind' }, kindLabel(d.kind)),
        statusLine(d),
      ),
      h('div', { class: 'device-name' }, d.name),
      h(
        'div',
        { class: 'device-values' },
        Object.keys(d.values ?? {}).length > 0
          ? valueChips(d.values)
          : h('span', { class: 'muted' }, t('devices.noValues')),
      ),
      h(
        'div',
        { class: 'device-foot' },
        batteryLine(d),
        seenLine(d),
        open.length > 0
          ? h(
              'span',
              { class: `dev-incidents sev-text-${status.replace('incident-', '')}` },
              t('devices.incidents', { n: open.length }),
            )
          : null,
      ),
    );
  }

  return { draw };
}
