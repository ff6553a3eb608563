// One incident in full: what, where, who was told and how it went, who acknowledged, the device's
// recent values, the camera, the speaker, the customer and the technician. Refetched when the stream
// says this incident or its timeline changed (no polling); the chart stays put across refetches.

import { h, isObject, mount, safeUrl } from './dom.js';
import { fmtNumber, fmtWhen, t } from './i18n.js';
import { chartFields, historyPanel } from './history.js';
import { icon } from './icons.js';
import { actorLabel, severityBadge, stateBadge, valueChips } from './labels.js';
import { deliveriesTable, jobState, timelineList } from './timeline.js';

export function createDetail(root, ctx) {
  let id = '';
  let data;
  let history;
  let loading = false;
  let again = false;
  const top = h('div', { class: 'detail-main' });
  // Kept across redraws: a frame arriving while someone types a note must not wipe it.
  const noteInput = h('input', {
    class: 'input note',
    type: 'text',
    maxlength: '1000',
    testid: 'action-note',
  });
  const buttonSlot = h('div', { class: 'detail-buttons' });
  const act = h('div', { class: 'detail-actions' }, noteInput, buttonSlot);
  const panels = h('div', { class: 'detail-panels' });
  let actSig = '';
  const chartSlot = h('div', { class: 'detail-chart' });
  const story = h('div', { class: 'detail-story' });

  async function load() {
    if (!id) return;
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    const mine = id;
    try {
      const r = await ctx.api.incident(mine);
      if (mine !== id) return;
      data = r;
      ctx.store.putIncident(r.incident);
      draw();
      if (!history) void attachChart(r.incident);
    } catch (err) {
      if (mine !== id) return;
      if (err.status === 404) mount(top, h('p', { class: 'notice-warn' }, t('detail.notFound')));
      else ctx.toast(t('error.failed', { message: err.message }), 'error');
    } finally {
      loading = false;
      if (again) {
        again = false;
        void load();
      }
    }
  }

  async function attachChart(incident) {
    let device = ctx.store.device(incident.deviceId);
    if (!device) device = await ctx.api.device(incident.deviceId).catch(() => undefined);
    if (incident.id !== id || history) return;
    const fields = chartFields({ ...incident.values, ...device?.values });
    const markers = [{ at: incident.openedAt, label: t('detail.opened') }];
    history = historyPanel(ctx.api, incident.deviceId, fields, { markers });
    chartSlot.replaceChildren(history.el);
  }

  function draw() {
    const i = data.incident;
    const c = isObject(i.context) ? i.context : {};
    const active = i.state === 'open' || i.state === 'acknowledged';
    mount(
      top,
      h(
        'div',
        { class: 'detail-head' },
        h(
          'a',
          { class: 'btn btn-small detail-back', href: ctx.boardHref(), testid: 'detail-back' },
          `← ${t('action.back')}`,
        ),
        h('div', { class: 'detail-badges' }, severityBadge(i.severity), stateBadge(i.state)),
      ),
      h('h2', { class: 'detail-title', testid: 'detail-title' }, i.deviceName ?? i.deviceId),
      h('p', { class: 'detail-rule' }, i.ruleName ?? i.ruleId),
      h('p', { class: 'detail-message' }, i.message ?? ''),
      h(
        'p',
        { class: 'muted detail-when' },
        t('card.openedAt', { time: fmtWhen(i.openedAt) }),
        active ? ' · ' : '',
        active ? h('span', { class: 'since', dataset: { since: String(i.openedAt) } }) : null,
      ),
      i.acknowledgedBy
        ? h(
            'p',
            { class: 'detail-who', testid: 'detail-ack' },
            t('card.ackBy', { who: actorLabel(i.acknowledgedBy), time: fmtWhen(i.acknowledgedAt) }),
          )
        : null,
      i.resolvedBy
        ? h(
            'p',
            { class: 'detail-who' },
            t('card.resolvedBy', { who: actorLabel(i.resolvedBy), time: fmtWhen(i.resolvedAt) }),
          )
        : null,
    );
    drawActions(i);
    mount(
      panels,
      factsPanel(i),
      locationPanel(i, c.location),
      cameraPanel(c.camera),
      speakerPanel(c.speaker),
      customerPanel(c.customer),
      technicianPanel(c.job),
    );
    mount(
      story,
      h(
        'section',
        { class: 'panel' },
        h('h3', {}, t('detail.timeline')),
        timelineList(data.timeline ?? [], { ruleName: i.ruleName }),
      ),
      (data.deliveries ?? []).length > 0
        ? h(
            'section',
            { class: 'panel' },
            h('h3', {}, t('detail.deliveries')),
            h('div', { class: 'table-wrap' }, deliveriesTable(data.deliveries)),
          )
        : null,
    );
    ctx.tick();
  }

  /** The buttons change with the incident's state only; the note field stays as typed. */
  function drawActions(i) {
    const sig = [i.id, i.state, ctx.canAct(), document.documentElement.lang].join('|');
    if (sig === actSig) return;
    actSig = sig;
    const buttons = ctx.actions(i, { note: () => noteInput.value, done: () => (noteInput.value = '') });
    act.hidden = !buttons;
    noteInput.disabled = !ctx.canAct();
    noteInput.placeholder = t('action.note');
    noteInput.setAttribute('aria-label', t('action.note'));
    mount(buttonSlot, buttons);
  }

  function factsPanel(i) {
    return h(
      'section',
      { class: 'panel facts' },
      h(
        'dl',
        { class: 'kv' },
        kv(t('detail.rule'), i.ruleName ?? i.ruleId),
        kv(t('detail.device'), h('a', { href: ctx.deviceHref(i.deviceId) }, i.deviceName ?? i.deviceId)),
        kv(t('detail.zone'), i.zone),
        kv(t('detail.opened'), fmtWhen(i.openedAt)),
        i.ackCode ? kv(t('detail.ackCode'), h('b', { class: 'mono' }, `ACK ${i.ackCode}`)) : null,
      ),
      Object.keys(i.values ?? {}).length > 0
        ? h(
            'div',
            { class: 'values' },
            h('span', { class: 'muted' }, t('detail.values')),
            ' ',
            valueChips(i.values, ['ts']),
          )
        : null,
    );
  }

  function locationPanel(i, loc) {
    if (!isObject(loc)) return null;
    const coords =
      Number.isFinite(loc.lat) && Number.isFinite(loc.lon)
        ? `${fmtNumber(loc.lat, 5)}, ${fmtNumber(loc.lon, 5)}`
        : '';
    return h(
      'section',
      { class: 'panel location', testid: 'location' },
      h('h3', {}, t('detail.location')),
      loc.label ? h('p', { class: 'big' }, loc.label) : null,
      h(
        'p',
        { class: 'muted' },
        loc.floor !== undefined ? t('detail.floor', { n: loc.floor }) : '',
        coords && loc.floor !== undefined ? ' · ' : '',
        coords,
      ),
      coords
        ? h('a', { class: 'btn btn-small', href: ctx.planHref(i.deviceId, loc.floor) }, t('detail.onPlan'))
        : null,
    );
  }

  function cameraPanel(cam) {
    if (!isObject(cam)) return null;
    const snapshot = safeUrl(cam.snapshot, ['http:', 'https:']);
    const stream = safeUrl(cam.stream, ['http:', 'https:', 'rtsp:', 'rtsps:']);
    if (!snapshot && !stream) return null;
    let img = null;
    if (snapshot) {
      img = h('img', {
        class: 'snapshot',
        src: snapshot,
        alt: t('detail.snapshot'),
        loading: 'lazy',
        testid: 'snapshot',
      });
      img.addEventListener('error', () =>
        img.replaceWith(h('p', { class: 'snapshot-missing muted' }, t('detail.snapshotMissing'))),
      );
    }
    return h(
      'section',
      { class: 'panel camera', testid: 'camera' },
      h('h3', {}, t('detail.camera')),
      img,
      stream
        ? h(
            'a',
            {
              class: 'btn btn-small',
              href: stream,
              target: '_blank',
              rel: 'noopener noreferrer',
              testid: 'stream-link',
            },
            icon('play'),
            t('detail.stream'),
          )
        : null,
    );
  }

  function speakerPanel(speaker) {
    const sip = isObject(speaker) ? safeUrl(speaker.sip, ['sip:', 'sips:']) : undefined;
    if (!sip) return null;
    return h(
      'section',
      { class: 'panel speaker', testid: 'speaker' },
      h('h3', {}, t('detail.speaker')),
      h('a', { class: 'btn btn-primary', href: sip, testid: 'sip-link' }, icon('mic'), t('detail.talk')),
      h('p', { class: 'muted mono small' }, speaker.sip),
    );
  }

  function customerPanel(cu) {
    if (!isObject(cu)) return null;
    const tel = typeof cu.phone === 'string' ? `tel:${cu.phone.replace(/[^+0-9]/g, '')}` : undefined;
    const mail =
      typeof cu.email === 'string' && /^[^\s@]+@[^\s@]+$/.test(cu.email) ? `mailto:${cu.email}` : undefined;
    return h(
      'section',
      { class: 'panel customer', testid: 'customer' },
      h('h3', {}, t('detail.customer')),
      h('p', { class: 'big' }, cu.name ?? cu.id ?? ''),
      h(
        'dl',
        { class: 'kv' },
        tel ? kv(t('detail.phone'), h('a', { href: tel }, cu.phone)) : null,
        mail ? kv(t('detail.email'), h('a', { href: mail }, cu.email)) : null,
        cu.address ? kv(t('detail.address'), cu.address) : null,
        cu.contract ? kv(t('detail.contract'), cu.contract) : null,
      ),
    );
  }

  function technicianPanel(job) {
    if (!isObject(job)) return null;
    const tech = isObject(job.technician) ? job.technician : undefined;
    return h(
      'section',
      { class: 'panel technician', testid: 'technician' },
      h('h3', {}, t('detail.technician')),
      h('p', { class: 'big' }, tech ? (tech.firstName ?? tech.id) : '—'),
      h(
        'dl',
        { class: 'kv' },
        kv(
          t('detail.jobState'),
          h('span', { class: ['job-state', `job-${job.state}`] }, jobState(job.state)),
        ),
        job.etaAt ? kv(t('detail.eta'), fmtWhen(job.etaAt)) : null,
        typeof job.travelMinutes === 'number' ? kv(t('detail.travel'), `${job.travelMinutes} min`) : null,
        typeof job.distanceKm === 'number'
          ? kv(t('detail.distance'), `${fmtNumber(job.distanceKm)} km`)
          : null,
        typeof job.surveyScore === 'number' ? kv(t('detail.survey'), `${job.surveyScore} / 5`) : null,
      ),
    );
  }

  return {
    el: h('div', { class: 'detail', testid: 'detail' }, top, act, panels, chartSlot, story),
    get id() {
      return id;
    },
    open(next) {
      if (next === id) return;
      this.close();
      id = next;
      noteInput.value = '';
      actSig = '';
      act.hidden = true;
      mount(top, h('p', { class: 'muted' }, '…'));
      void load();
    },
    close() {
      history?.dispose();
      history = undefined;
      id = '';
      data = undefined;
      top.replaceChildren();
      panels.replaceChildren();
      buttonSlot.replaceChildren();
      act.hidden = true;
      chartSlot.replaceChildren();
      story.replaceChildren();
    },
    /** The stream said this incident (or its timeline) changed. */
    changed(incidentId) {
      if (incidentId === id) void load();
    },
    relabel() {
      if (!data) return;
      actSig = '';
      draw();
      history?.dispose();
      history = undefined;
      void attachChart(data.incident);
    },
  };
}

function kv(k, v) {
  return [h('dt', {}, k), h('dd', {}, v)];
}
