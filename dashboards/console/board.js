// The incident board: cards pushed live, critical open incidents first, filters kept in the URL,
// acknowledge and resolve on the card. Cards are keyed by incident and rebuilt only when their
// incident changed, so a button under someone's finger does not vanish because another card moved.

import { h, mount } from './dom.js';
import { fmtWhen, t } from './i18n.js';
import {
  actorLabel,
  SEVERITIES,
  severityBadge,
  severityRank,
  stateBadge,
  STATES,
  stateRank,
} from './labels.js';
import { listParam, patch } from './router.js';

export const DEFAULT_STATES = ['open', 'acknowledged'];

/** The board's filters as the hash holds them. */
export function boardFilter(params) {
  const state = listParam(params, 'state', STATES);
  return {
    zone: params.get('zone') ?? '',
    severity: listParam(params, 'severity', SEVERITIES),
    state: state.length > 0 ? state : DEFAULT_STATES,
  };
}

export function matches(i, f) {
  return (
    (!f.zone || i.zone === f.zone) &&
    (f.severity.length === 0 || f.severity.includes(i.severity)) &&
    f.state.includes(i.state)
  );
}

/** Critical and still open first, then by state, severity, newest. */
export function boardOrder(a, b) {
  const top = (i) => (i.severity === 'critical' && i.state === 'open' ? 0 : 1);
  return (
    top(a) - top(b) ||
    stateRank(a.state) - stateRank(b.state) ||
    severityRank(a.severity) - severityRank(b.severity) ||
    (b.openedAt ?? 0) - (a.openedAt ?? 0)
  );
}

export function createBoard(root, ctx) {
  const filters = h('div', { class: 'filters', testid: 'filters' });
  const summary = h('summary', { testid: 'filters-toggle' });
  // Folded on a phone, where the cards matter more than the controls; always open on a desk.
  const phone = window.matchMedia('(max-width: 640px)');
  const box = h('details', { class: 'filters-box', open: !phone.matches }, summary, filters);
  phone.addEventListener('change', () => {
    if (!phone.matches) box.open = true;
  });
  const roleNote = h('p', { class: 'notice-warn role-note', testid: 'role-reason', hidden: true });
  const count = h('span', { class: 'muted board-count', testid: 'board-count' });
  const list = h('div', { class: 'cards', testid: 'board', role: 'list' });
  const empty = h('p', { class: 'board-empty muted', testid: 'board-empty', hidden: true });
  mount(root, h('div', { class: 'board-head' }, box, count), roleNote, list, empty);

  const cards = new Map();
  let filter = boardFilter(new URLSearchParams());
  let selected = '';

  function drawFilters() {
    const zones = [
      ...new Set([...ctx.store.devices().map((d) => d.zone), ...ctx.store.incidents().map((i) => i.zone)]),
    ]
      .filter(Boolean)
      .sort();
    const zoneSelect = h(
      'select',
      {
        class: 'select',
        'aria-label': t('filter.zone'),
        testid: 'filter-zone',
        onchange: (e) => patch({ zone: e.target.value }),
      },
      h('option', { value: '' }, t('filter.allZones')),
      zones.map((z) => h('option', { value: z, selected: z === filter.zone }, z)),
    );
    const chips = (key, all, on, label) =>
      h(
        'div',
        { class: 'chips', role: 'group', 'aria-label': label },
        all.map((v) =>
          h(
            'button',
            {
              type: 'button',
              class: ['chip-toggle', `chip-${v}`, on.includes(v) && 'is-on'],
              'aria-pressed': String(on.includes(v)),
              testid: `filter-${key}-${v}`,
              onclick: () => {
                const next = on.includes(v) ? on.filter((x) => x !== v) : [...on, v];
                patch({ [key]: next });
              },
            },
            t(`${key === 'severity' ? 'sev' : 'state'}.${v}`),
          ),
        ),
      );
    const isDefault = !filter.zone && filter.severity.length === 0 && sameSet(filter.state, DEFAULT_STATES);
    const active =
      (filter.zone ? 1 : 0) + filter.severity.length + (sameSet(filter.state, DEFAULT_STATES) ? 0 : 1);
    summary.textContent = `${t('filter.title')}${active > 0 ? ` · ${t('filter.active', { n: active })}` : ''}`;
    mount(
      filters,
      h('label', { class: 'filter' }, h('span', { class: 'filter-label' }, t('filter.zone')), zoneSelect),
      h(
        'div',
        { class: 'filter' },
        h('span', { class: 'filter-label' }, t('filter.severity')),
        chips('severity', SEVERITIES, filter.severity, t('filter.severity')),
      ),
      h(
        'div',
        { class: 'filter' },
        h('span', { class: 'filter-label' }, t('filter.state')),
        chips('state', STATES, filter.state, t('filter.state')),
      ),
      isDefault
        ? null
        : h(
            'button',
            {
              type: 'button',
              class: 'btn btn-small',
              testid: 'filter-clear',
              onclick: () => patch({ zone: '', severity: [], state: [] }),
            },
            t('filter.clear'),
          ),
    );
  }

  function signature(i) {
    return [
      i.updatedAt,
      i.state,
      i.acknowledgedBy,
      i.resolvedBy,
      i.context?.location?.label,
      selected === i.id,
    ].join('|');
  }

  function card(i) {
    const active = i.state === 'open' || i.state === 'acknowledged';
    const place = i.context?.location?.label;
    const who =
      i.state === 'resolved' && i.resolvedBy
        ? t('card.resolvedBy', { who: actorLabel(i.resolvedBy), time: fmtWhen(i.resolvedAt) })
        : i.acknowledgedBy
          ? t('card.ackBy', { who: actorLabel(i.acknowledgedBy), time: fmtWhen(i.acknowledgedAt) })
          : '';
    const el = h(
      'article',
      {
        class: [
          'card',
          'incident',
          `sev-edge-${i.severity}`,
          `is-${i.state}`,
          selected === i.id && 'is-selected',
        ],
        role: 'listitem',
        testid: 'incident-card',
        dataset: { id: i.id, state: i.state, severity: i.severity },
      },
      h(
        'div',
        { class: 'incident-top' },
        severityBadge(i.severity),
        stateBadge(i.state),
        h(
          'span',
          { class: 'incident-time muted', title: new Date(i.openedAt).toISOString() },
          fmtWhen(i.openedAt),
        ),
      ),
      h(
        'a',
        { class: 'incident-title', href: ctx.incidentHref(i.id), testid: 'incident-open' },
        h('span', { class: 'incident-device' }, i.deviceName ?? i.deviceId),
        h('span', { class: 'incident-rule' }, i.ruleName ?? i.ruleId),
      ),
      h('p', { class: 'incident-message' }, i.message ?? i.reason ?? ''),
      h(
        'p',
        { class: 'incident-meta muted' },
        h('span', {}, i.zone),
        place ? h('span', {}, place) : null,
        active ? h('span', { class: 'since', dataset: { since: String(i.openedAt) } }) : null,
        i.escalationStep > 0 ? h('span', {}, t('card.step', { n: i.escalationStep + 1 })) : null,
      ),
      who ? h('p', { class: 'incident-who', testid: 'incident-who' }, who) : null,
      ctx.actions(i, { compact: true }),
    );
    return el;
  }

  function draw() {
    const shown = ctx.store
      .incidents()
      .filter((i) => matches(i, filter))
      .sort(boardOrder);
    const keep = new Set(shown.map((i) => i.id));
    for (const [id, c] of cards) {
      if (!keep.has(id)) {
        c.el.remove();
        cards.delete(id);
      }
    }
    shown.forEach((i, index) => {
      const sig = signature(i);
      let c = cards.get(i.id);
      if (!c || c.sig !== sig) {
        const el = card(i);
        if (c) c.el.replaceWith(el);
        c = { el, sig };
        cards.set(i.id, c);
      }
      // Moves only what is out of place: appendChild of a node already there would still reflow.
      if (list.children[index] !== c.el) list.insertBefore(c.el, list.children[index] ?? null);
    });
    count.textContent = t('board.shown', { n: shown.length });
    empty.hidden = shown.length > 0;
    empty.textContent = t('board.empty');
    ctx.tick();
  }

  function drawRoleNote() {
    roleNote.hidden = ctx.canAct();
    roleNote.textContent = ctx.canAct() ? '' : t('role.cannot', { role: t(`role.${ctx.role()}`) });
  }

  return {
    route(params) {
      filter = boardFilter(params);
      selected = params.get('incident') ?? '';
      drawFilters();
      drawRoleNote();
      draw();
    },
    changed(what) {
      if (what === 'devices' || what === 'incidents') drawFilters();
      draw();
    },
    relabel() {
      cards.clear();
      list.replaceChildren();
      drawFilters();
      drawRoleNote();
      draw();
    },
  };
}

function sameSet(a, b) {
  return a.length === b.length && a.every((x) => b.includes(x));
}
