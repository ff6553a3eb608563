// The rule workbench in the console (issue 8): record the site's events, then replay a recorded
// window or an uploaded recording through the rules the gateway runs now, and read what they would
// have done, in time order, with nothing sent. For integrators and admins; anyone else (or a
// gateway that answers 403) sees why it is closed.

import { ApiError } from './api.js';
import { h, mount } from './dom.js';
import { fmtDuration, fmtNumber, t, zoneName } from './i18n.js';
import {
  drawReplayResult,
  fmtBytes,
  fmtStamp,
  fromLocalInput,
  PAGE,
  toLocalInput,
} from './workbench-result.js';

const ROLES = ['integrator', 'admin'];
/** While a recording runs its counters move: the list is refetched this often (view shown only). */
const POLL_MS = 3000;
const DURATIONS = ['', '10m', '30m', '1h', '6h', '24h', '7d'];

export function canUseWorkbench(role) {
  return ROLES.includes(role);
}

export function createWorkbench(root, ctx) {
  let recordings = [];
  let listSignature = '';
  let denied = false;
  let timer;
  let generation = 0;
  const draft = { name: '', devices: '', kinds: '', zones: '', duration: '' };
  const replay = {
    source: 'recording',
    picked: '',
    from: '',
    to: '',
    defFrom: '',
    defTo: '',
    file: undefined,
  };
  let busy = false;
  let status = { text: '', tone: '' };
  let result;
  let focus = '';
  let shownLines = PAGE;
  let shown = false;

  const listEl = h('div', { class: 'wb-list' });
  const startEl = h('form', { class: 'panel wb-start', testid: 'wb-start-form', novalidate: true });
  const replayEl = h('form', { class: 'panel wb-replay', testid: 'wb-replay-form', novalidate: true });
  const resultEl = h('section', { class: 'wb-result', testid: 'wb-result' });
  const headEl = h('div', { class: 'wb-head' });
  const bodyEl = h(
    'div',
    { class: 'wb-body' },
    h('section', { class: 'panel wb-recordings' }, listEl),
    h('div', { class: 'wb-forms' }, startEl, replayEl),
    resultEl,
  );
  mount(root, h('div', { class: 'wb', testid: 'workbench' }, headEl, bodyEl));
  startEl.addEventListener('submit', (e) => {
    e.preventDefault();
    void startRecording();
  });
  replayEl.addEventListener('submit', (e) => {
    e.preventDefault();
    void runReplay();
  });

  // ---- the network ----

  async function load() {
    const mine = ++generation;
    try {
      const list = await ctx.api.recordings();
      if (mine !== generation) return;
      denied = false;
      recordings = [...list].sort((a, b) => b.startedAt - a.startedAt);
      if (!replay.picked) replay.picked = recordings.find((r) => r.state !== 'recording')?.id ?? '';
    } catch (err) {
      if (mine !== generation) return;
      if (err instanceof ApiError && err.status === 403) denied = true;
      else ctx.toast(t('error.failed', { message: err.message }), 'error');
    }
    draw(false);
  }

  function poll() {
    clearInterval(timer);
    timer = setInterval(() => {
      if (document.visibilityState !== 'visible') return;
      if (recordings.some((r) => r.state === 'recording')) void load();
    }, POLL_MS);
  }

  /** Runs an action on a recording, says how it went, and refetches the list. */
  async function act(promise, done) {
    try {
      await promise;
      ctx.toast(t(done), 'ok');
    } catch (err) {
      ctx.toast(refusal(err), 'error');
    }
    await load();
  }

  async function startRecording() {
    const body = {};
    if (draft.name.trim()) body.name = draft.name.trim();
    for (const key of ['devices', 'kinds', 'zones']) {
      const ids = splitIds(draft[key]);
      if (ids.length > 0) body[key] = ids;
    }
    if (draft.duration) body.duration = draft.duration;
    try {
      const rec = await ctx.api.startRecording(body);
      draft.name = '';
      ctx.toast(t('wb.started'), 'ok');
      if (rec && rec.id && !replay.picked) replay.picked = rec.id;
    } catch (err) {
      ctx.toast(refusal(err), 'error');
    }
    await load();
    drawStart();
  }

  async function download(rec) {
    try {
      const blob = await ctx.api.recordingFile(rec.id);
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `${fileName(rec.name || rec.id)}.jsonl`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) {
      ctx.toast(refusal(err), 'error');
    }
  }

  async function runReplay() {
    if (busy) return;
    let request;
    if (replay.source === 'file') {
      if (!replay.file) return say(t('wb.replay.noSource'), 'warn');
      if (replay.file.size === 0) return say(t('wb.replay.empty'), 'warn');
      request = () => ctx.api.replayFile(replay.file);
    } else {
      const rec = recordings.find((r) => r.id === replay.picked);
      if (!rec) return say(t('wb.replay.noSource'), 'warn');
      // Untouched bounds are left out: the whole recording, to the millisecond, not to the second.
      const from = bound(replay.from, replay.defFrom);
      const to = bound(replay.to, replay.defTo);
      const span = spanOf(rec);
      if (from === null || to === null || (from ?? span.from) >= (to ?? span.to))
        return say(t('wb.replay.badWindow'), 'warn');
      const body = { recording: rec.id };
      if (from !== undefined) body.from = from;
      if (to !== undefined) body.to = to;
      request = () => ctx.api.replay(body);
    }
    busy = true;
    say(t('wb.replay.running'), 'busy');
    try {
      result = await request();
      focus = '';
      shownLines = PAGE;
      say(t('wb.replay.done', { d: fmtDuration(result.wallMs ?? 0) }), 'ok');
      drawResult();
      resultEl.querySelector('h2')?.focus();
    } catch (err) {
      say(replayRefusal(err), 'warn');
    } finally {
      busy = false;
      drawReplay();
    }
  }

  function say(text, tone) {
    status = { text, tone };
    drawReplay();
  }

  // ---- drawing ----

  function draw(full = true) {
    mount(
      headEl,
      h('h2', {}, t('wb.title')),
      h('p', { class: 'muted wb-lead' }, t('wb.lead')),
      denied || !canUseWorkbench(ctx.role())
        ? h('p', { class: 'notice-warn', role: 'alert', testid: 'wb-denied' }, t('wb.denied'))
        : null,
    );
    bodyEl.hidden = denied || !canUseWorkbench(ctx.role());
    drawList();
    // The forms keep what is being typed: redrawn only when their words or choices change.
    const signature = recordings.map((r) => `${r.id}:${r.state}:${r.name ?? ''}`).join('|');
    if (full) drawStart();
    if (full || signature !== listSignature) drawReplay();
    listSignature = signature;
    if (full) drawResult();
  }

  function drawList() {
    // The list is redrawn while a recording runs: a keyboard user keeps their place in it.
    const active = listEl.contains(document.activeElement) ? document.activeElement : undefined;
    const row = active?.closest('[data-id]')?.dataset.id;
    const which = active?.dataset.testid;
    drawTable();
    if (active && which) {
      const again = [...listEl.querySelectorAll(`[data-testid="${which}"]`)].find(
        (el) => (el.closest('[data-id]')?.dataset.id ?? undefined) === row,
      );
      again?.focus();
    }
  }

  function drawTable() {
    const head = ['wb.col.name', 'wb.col.state', 'wb.col.span', 'wb.col.events', 'wb.col.size', 'wb.col.do'];
    mount(
      listEl,
      h(
        'div',
        { class: 'panel-head' },
        h('h3', {}, t('wb.recordings')),
        h(
          'button',
          { type: 'button', class: 'btn btn-small', testid: 'wb-refresh', onclick: () => void load() },
          t('action.refresh'),
        ),
      ),
      recordings.length === 0
        ? h('p', { class: 'muted', testid: 'wb-no-recordings' }, t('wb.noRecordings'))
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'wb-table', testid: 'wb-recordings' },
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  head.map((k) => h('th', { scope: 'col' }, t(k))),
                ),
              ),
              h('tbody', {}, recordings.map(recordingRow)),
            ),
          ),
    );
  }

  function recordingRow(r) {
    const span = spanOf(r);
    const dropped = r.droppedEvents > 0 ? t('wb.dropped', { n: fmtNumber(r.droppedEvents, 0) }) : '';
    return h(
      'tr',
      { testid: 'wb-recording', dataset: { id: r.id, state: r.state } },
      h(
        'th',
        { scope: 'row', dataset: { label: t('wb.col.name') } },
        h('div', { class: 'wb-name' }, r.name || r.id),
        h('div', { class: 'muted small' }, r.name ? `${r.id} · ` : '', selectionText(r.selection)),
      ),
      h(
        'td',
        { dataset: { label: t('wb.col.state') } },
        h('span', { class: ['state', `wb-state-${r.state}`], testid: 'wb-state' }, t(`wb.rec.${r.state}`)),
        r.stopReason ? h('div', { class: 'muted small' }, t(`wb.reason.${r.stopReason}`)) : null,
        r.state === 'recording' && r.endsAt
          ? h('div', { class: 'muted small' }, t('wb.until', { time: fmtStamp(r.endsAt, true) }))
          : null,
      ),
      h(
        'td',
        { dataset: { label: t('wb.col.span') } },
        `${fmtStamp(span.from, true)} → ${r.state === 'recording' ? '…' : fmtStamp(span.to, true)}`,
        h('div', { class: 'muted small' }, fmtDuration(span.to - span.from)),
      ),
      h(
        'td',
        { dataset: { label: t('wb.col.events') }, testid: 'wb-events' },
        fmtNumber(r.events, 0),
        r.actions > 0 ? h('div', { class: 'muted small' }, t('wb.actionsCount', { n: r.actions })) : null,
        dropped ? h('div', { class: 'muted small' }, dropped) : null,
      ),
      h(
        'td',
        { dataset: { label: t('wb.col.size') } },
        fmtBytes(r.bytes),
        h('div', { class: 'muted small' }, t('wb.of', { max: fmtBytes(r.maxBytes) })),
      ),
      h(
        'td',
        { class: 'wb-do', dataset: { label: t('wb.col.do') } },
        h('div', { class: 'wb-buttons' }, rowButtons(r)),
      ),
    );
  }

  function rowButtons(r) {
    const label = r.name || r.id;
    const btn = (key, testid, onclick) =>
      h(
        'button',
        { type: 'button', class: 'btn btn-small', testid, 'aria-label': `${t(key)} — ${label}`, onclick },
        t(key),
      );
    const word = (key) => {
      del.textContent = t(key);
      del.setAttribute('aria-label', `${t(key)} — ${label}`);
    };
    const del = btn('wb.delete', 'wb-delete', () => {
      // Two taps, like resolving: a recording cannot be got back.
      if (del.dataset.armed !== '1') {
        del.dataset.armed = '1';
        word('wb.confirmDelete');
        setTimeout(() => {
          if (!del.isConnected) return;
          del.dataset.armed = '';
          word('wb.delete');
        }, 4000);
        return;
      }
      void act(ctx.api.deleteRecording(r.id), 'wb.deleted');
    });
    return [
      btn('wb.pick', 'wb-pick', () => {
        pick(r.id, 'recording');
        replayEl.querySelector('select')?.focus();
      }),
      r.state === 'recording'
        ? btn('wb.stop', 'wb-stop', () => void act(ctx.api.stopRecording(r.id), 'wb.stopped'))
        : null,
      btn('wb.download', 'wb-download', () => void download(r)),
      del,
    ];
  }

  function drawStart() {
    const text = (key, testid, hint) =>
      h(
        'label',
        { class: 'field' },
        h('span', {}, t(`wb.start.${key}`)),
        h('input', {
          class: 'input',
          type: 'text',
          name: key,
          value: draft[key],
          maxlength: key === 'name' ? 80 : 2000,
          spellcheck: 'false',
          autocomplete: 'off',
          testid,
          oninput: (e) => {
            draft[key] = e.target.value;
          },
        }),
        hint ? h('small', { class: 'muted' }, hint) : null,
      );
    const duration = h(
      'select',
      {
        class: 'select',
        name: 'duration',
        testid: 'wb-duration',
        onchange: (e) => {
          draft.duration = e.target.value;
        },
      },
      DURATIONS.map((d) =>
        h('option', { value: d, selected: d === draft.duration }, d ? d : t('wb.start.untilStopped')),
      ),
    );
    mount(
      startEl,
      h('h3', {}, t('wb.start.title')),
      text('name', 'wb-name'),
      h(
        'div',
        { class: 'wb-fields' },
        text('devices', 'wb-devices'),
        text('kinds', 'wb-kinds'),
        text('zones', 'wb-zones'),
      ),
      h('small', { class: 'muted' }, t('wb.start.listHint')),
      h('label', { class: 'field' }, h('span', {}, t('wb.start.duration')), duration),
      h('button', { type: 'submit', class: 'btn btn-primary', testid: 'wb-start' }, t('wb.start.submit')),
    );
  }

  function pick(id, source) {
    replay.source = source;
    replay.picked = id;
    replay.from = replay.to = replay.defFrom = replay.defTo = '';
    drawReplay();
  }

  /** The window defaults to the whole recording, and follows it while the reader has not changed it. */
  function syncWindow() {
    const rec = recordings.find((r) => r.id === replay.picked);
    if (!rec) {
      replay.picked = replay.from = replay.to = replay.defFrom = replay.defTo = '';
      return undefined;
    }
    const span = spanOf(rec);
    const defFrom = toLocalInput(Math.floor(span.from / 1000) * 1000);
    const defTo = toLocalInput(Math.ceil(span.to / 1000) * 1000);
    if (replay.from === replay.defFrom) replay.from = defFrom;
    if (replay.to === replay.defTo) replay.to = defTo;
    replay.defFrom = defFrom;
    replay.defTo = defTo;
    return { rec, span, min: defFrom, max: defTo };
  }

  function drawReplay() {
    const win = syncWindow();
    const radio = (value, key) =>
      h(
        'label',
        { class: 'wb-radio' },
        h('input', {
          type: 'radio',
          name: 'source',
          value,
          checked: replay.source === value,
          testid: `wb-source-${value}`,
          onchange: () => {
            replay.source = value;
            drawReplay();
          },
        }),
        ' ',
        t(key),
      );
    const fromRecording = replay.source === 'recording';
    const when = (key, testid) =>
      h(
        'label',
        { class: 'field' },
        h('span', {}, t(`wb.replay.${key}`)),
        h('input', {
          class: 'input',
          type: 'datetime-local',
          step: '1',
          value: replay[key],
          min: win?.min,
          max: win?.max,
          disabled: !win,
          testid,
          oninput: (e) => {
            replay[key] = e.target.value;
          },
        }),
      );
    mount(
      replayEl,
      h('h3', {}, t('wb.replay.title')),
      h(
        'fieldset',
        { class: 'wb-source' },
        h('legend', {}, t('wb.replay.source')),
        radio('recording', 'wb.replay.fromRecording'),
        radio('file', 'wb.replay.fromFile'),
      ),
      fromRecording
        ? [
            h(
              'label',
              { class: 'field' },
              h('span', {}, t('wb.replay.recording')),
              h(
                'select',
                {
                  class: 'select',
                  testid: 'wb-recording-select',
                  onchange: (e) => pick(e.target.value, 'recording'),
                },
                h('option', { value: '', selected: !replay.picked }, t('wb.replay.choose')),
                recordings.map((r) =>
                  h(
                    'option',
                    { value: r.id, selected: r.id === replay.picked },
                    `${r.name || r.id} · ${t(`wb.rec.${r.state}`)}`,
                  ),
                ),
              ),
            ),
            h('div', { class: 'wb-fields' }, when('from', 'wb-from'), when('to', 'wb-to')),
            h('small', { class: 'muted' }, t('wb.replay.zone', { zone: zoneName() })),
          ]
        : h(
            'label',
            { class: 'field' },
            h('span', {}, t('wb.replay.file')),
            h('input', {
              class: 'input',
              type: 'file',
              accept: '.jsonl,.ndjson,application/x-ndjson',
              testid: 'wb-file',
              onchange: (e) => {
                replay.file = e.target.files?.[0];
              },
            }),
            replay.file
              ? h('small', { class: 'muted' }, `${replay.file.name} · ${fmtBytes(replay.file.size)}`)
              : null,
          ),
      h(
        'div',
        { class: 'wb-run' },
        h(
          'button',
          { type: 'submit', class: 'btn btn-primary', disabled: busy, testid: 'wb-replay-run' },
          t('wb.replay.run'),
        ),
        h(
          'p',
          {
            class: ['wb-status', status.tone === 'warn' && 'notice-warn'],
            role: status.tone === 'warn' ? 'alert' : 'status',
            testid: 'wb-status',
            dataset: { tone: status.tone },
          },
          status.text,
        ),
      ),
    );
  }

  function drawResult() {
    if (!result) return mount(resultEl);
    drawReplayResult(
      resultEl,
      result,
      { focus, shown: shownLines },
      {
        choose(key) {
          focus = key;
          shownLines = PAGE;
          drawResult();
          resultEl.querySelector(`[data-key="${CSS.escape(key)}"]`)?.focus();
        },
        more() {
          shownLines += PAGE;
          drawResult();
        },
      },
    );
  }

  return {
    el: root,
    show() {
      shown = true;
      draw();
      if (canUseWorkbench(ctx.role())) {
        void load();
        poll();
      }
    },
    hide() {
      shown = false;
      clearInterval(timer);
      timer = undefined;
    },
    relabel() {
      if (shown) draw();
    },
  };
}

// ---- words and numbers ----

function refusal(err) {
  return err instanceof ApiError && err.status > 0
    ? t('error.refused', { message: err.message })
    : t('error.failed', { message: err.message });
}

function replayRefusal(err) {
  if (!(err instanceof ApiError)) return t('error.failed', { message: err.message });
  if (err.status === 409) return t('wb.replay.busy');
  if (err.status === 413) return t('wb.replay.tooBig', { message: err.message });
  if (err.status === 400) return t('wb.replay.badFile', { message: err.message });
  if (err.status === 403) return t('wb.denied');
  return refusal(err);
}

/** A window bound to send: undefined when left as it was, null when it is not a date and time. */
function bound(value, untouched) {
  if (!value || value === untouched) return undefined;
  return fromLocalInput(value) ?? null;
}

function splitIds(text) {
  return [...new Set(text.split(/[\s,;]+/).filter(Boolean))];
}

function fileName(text) {
  const name = text
    .replace(/[^\p{L}\p{N}._-]+/gu, '-')
    .replace(/^[-.]+|-+$/g, '')
    .slice(0, 80);
  return name || 'recording';
}

function selectionText(sel) {
  const parts = ['devices', 'kinds', 'zones'].flatMap((k) => (sel?.[k]?.length ? [sel[k].join(', ')] : []));
  return parts.length > 0 ? parts.join(' · ') : t('wb.selection.all');
}

/** What a recording covers: from its start (or its oldest event kept) to its end (or now). */
function spanOf(r) {
  const from = r.droppedSegments > 0 && r.firstAt ? r.firstAt : r.startedAt;
  const to = r.stoppedAt ?? (r.state === 'recording' ? Date.now() : (r.lastAt ?? r.startedAt + 1000));
  return { from, to: Math.max(to, from + 1) };
}

/** `+0:00:05`, `+1:02:03`, `+2 d 01:00:00`: how long after the start of the replay. */
