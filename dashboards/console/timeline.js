// An incident's story as people read it: opened by which rule, every notification attempt (channel,
// person, outcome, latency), who acknowledged, escalations, the CRM, the technician's job steps.

import { h, isObject } from './dom.js';
import { fmtDuration, fmtNumber, fmtTime, fmtWhen, t } from './i18n.js';
import { actorLabel } from './labels.js';

const ICON = {
  opened: '▲',
  notification: '✉',
  acknowledged: '✔',
  resolved: '✔',
  cleared: '○',
  escalated: '⇡',
  note: '✎',
  crm: '☰',
  job: '⚒',
  customer: '☎',
  assignment: '⇄',
};

export function timelineList(entries, { ruleName } = {}) {
  const sorted = [...entries].sort((a, b) => a.at - b.at);
  return h(
    'ol',
    { class: 'timeline', testid: 'timeline' },
    sorted.map((e) => {
      const { title, details, tone } = describe(e, ruleName);
      return h(
        'li',
        {
          class: ['tl-item', `tl-${e.kind}`, tone && `tl-${tone}`],
          testid: 'timeline-entry',
          dataset: { kind: e.kind },
        },
        h('span', { class: 'tl-time', title: new Date(e.at).toISOString() }, fmtTime(e.at)),
        h('span', { class: 'tl-icon', 'aria-hidden': 'true' }, ICON[e.kind] ?? '•'),
        h(
          'div',
          { class: 'tl-body' },
          h('div', { class: 'tl-title' }, title),
          details.length > 0
            ? h('div', { class: 'tl-details muted' }, details.filter(Boolean).join(' · '))
            : null,
        ),
      );
    }),
  );
}

function describe(e, ruleName) {
  const d = isObject(e.detail) ? e.detail : {};
  const who = actorLabel(e.actor);
  const via = typeof d.via === 'string' ? t('tl.via', { via: d.via }) : '';
  switch (e.kind) {
    case 'opened':
      return {
        title: t('tl.opened', { rule: ruleName ?? String(e.actor ?? '').replace(/^rule:/, '') }),
        details: [
          str(d.reason),
          typeof d.deliveries === 'number' ? t('tl.planned', { n: d.deliveries }) : '',
          isObject(d.storm) ? t('tl.storm', { kind: str(d.storm.kind) }) : '',
        ],
        tone: 'alert',
      };
    case 'notification': {
      const outcome = str(d.outcome);
      return {
        title: t('tl.notification', {
          channel: str(d.channel),
          to: actorLabel(str(d.recipient)),
          outcome: t(`delivery.${outcome}`) === `delivery.${outcome}` ? outcome : t(`delivery.${outcome}`),
        }),
        details: [
          typeof d.attempt === 'number' ? t('tl.attempt', { n: d.attempt }) : '',
          typeof d.step === 'number' ? t('tl.step', { n: d.step + 1 }) : '',
          typeof d.latencyMs === 'number' ? `${fmtNumber(d.latencyMs)} ms` : '',
          typeof d.via === 'string' ? t('delivery.via', { channel: d.via }) : '',
          str(d.error),
          typeof d.nextAttemptAt === 'number' ? `→ ${fmtTime(d.nextAttemptAt)}` : '',
        ],
        tone: outcome === 'failed' ? 'bad' : outcome === 'delivered' || outcome === 'sent' ? 'good' : '',
      };
    }
    case 'acknowledged':
      return { title: t('tl.acknowledged', { who }), details: [via, str(d.note)], tone: 'good' };
    case 'resolved':
      return { title: t('tl.resolved', { who }), details: [via, str(d.note)], tone: 'good' };
    case 'cleared':
      return { title: t('tl.cleared'), details: [str(d.reason)], tone: 'good' };
    case 'escalated':
      return {
        title: t(d.repeat ? 'tl.escalatedRepeat' : 'tl.escalated', { n: Number(d.step ?? 0) + 1 }),
        details: [typeof d.deliveries === 'number' ? t('tl.planned', { n: d.deliveries }) : ''],
        tone: 'alert',
      };
    case 'note':
      return { title: t('tl.note', { who }), details: [str(d.text), via] };
    case 'crm':
      if (d.found)
        return { title: t('tl.crmFound', { customer: str(d.customer) }), details: [str(d.source)] };
      if (d.error) return { title: t('tl.crmError', { error: str(d.error) }), details: [], tone: 'bad' };
      return { title: t('tl.crmNotFound'), details: [] };
    case 'job':
      return {
        title: t('tl.job', { event: str(d.event ?? d.state ?? '') }),
        details: [
          d.state ? jobState(str(d.state)) : '',
          who && e.actor !== 'system' ? who : '',
          isObject(d.technician) ? str(d.technician.firstName ?? d.technician.id) : str(d.technician),
          str(d.error),
        ],
        tone: d.error ? 'bad' : '',
      };
    case 'customer':
      return {
        title: t('tl.customer', { event: str(d.event ?? d.kind ?? '') }),
        details: [str(d.channel), str(d.error)],
      };
    case 'assignment':
      return {
        title: t('tl.assignment'),
        details: [
          d.queue ? t('tl.queue', { queue: str(d.queue) }) : '',
          isObject(d.resource) ? str(d.resource.id) : '',
          typeof d.estimatedWaitSec === 'number'
            ? t('tl.wait', { d: fmtDuration(d.estimatedWaitSec * 1000) })
            : '',
          d.callbackOffered ? t('tl.callback') : '',
        ],
      };
    default:
      return { title: `${e.kind}${who ? ` · ${who}` : ''}`, details: [] };
  }
}

export function jobState(state) {
  const key = `job.${state}`;
  return t(key) === key ? state : t(key);
}

function str(v) {
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** The deliveries with their status: one row per person and channel. */
export function deliveriesTable(deliveries) {
  const head = [
    'col.channel',
    'col.recipient',
    'col.state',
    'col.attempts',
    'col.latency',
    'col.delivered',
    'col.error',
  ];
  return h(
    'table',
    { class: 'deliveries', testid: 'deliveries' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        head.map((k) => h('th', { scope: 'col' }, t(k))),
      ),
    ),
    h(
      'tbody',
      {},
      deliveries.map((d) =>
        h(
          'tr',
          { class: `dl-${d.state}`, testid: 'delivery', dataset: { state: d.state, channel: d.channel } },
          h(
            'td',
            { dataset: { label: t('col.channel') } },
            d.channel,
            d.sentVia && d.sentVia !== d.channel ? ` → ${d.sentVia}` : '',
          ),
          h('td', { dataset: { label: t('col.recipient') } }, actorLabel(d.recipient)),
          h(
            'td',
            { dataset: { label: t('col.state') } },
            h('span', { class: ['dl-state', `dl-state-${d.state}`] }, t(`delivery.${d.state}`)),
            d.providerStatus ? h('span', { class: 'muted' }, ` (${d.providerStatus})`) : null,
          ),
          h('td', { dataset: { label: t('col.attempts') } }, String(d.attempts ?? 0)),
          h(
            'td',
            { dataset: { label: t('col.latency') } },
            typeof d.latencyMs === 'number' ? fmtDuration(d.latencyMs) : '—',
          ),
          h('td', { dataset: { label: t('col.delivered') } }, d.deliveredAt ? fmtWhen(d.deliveredAt) : '—'),
          h('td', { class: 'dl-error', dataset: { label: t('col.error') } }, d.lastError ?? ''),
        ),
      ),
    ),
  );
}
