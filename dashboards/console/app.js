// The console's wiring: sign-in, the header, the views behind the URL hash, the live feed and what
// each of its frames refreshes. Everything on screen comes from the views; this file only decides
// when they draw.

import { createActions } from './actions.js';
import { createAlarm } from './alarm.js';
import { ApiError, createApi } from './api.js';
import { boardFilter, createBoard } from './board.js';
import { createDetail } from './detail.js';
import { createDevicePanel } from './device-panel.js';
import { createDevices } from './devices.js';
import { createHeader } from './header.js';
import {
  fmtAgo,
  fmtDuration,
  LANGUAGES,
  language,
  onLanguageChange,
  setLanguage,
  setTimeZone,
  t,
  translateStatic,
} from './i18n.js';
import { createKpis } from './kpis.js';
import { ACTIVE_STATES } from './labels.js';
import { createLive } from './live.js';
import { showLogin } from './login.js';
import { createPlan } from './plan.js';
import { currentRoute, href, onRoute, patch } from './router.js';
import {
  clearSession,
  loadSession,
  saveLanguage,
  savedLanguage,
  savedMute,
  saveMute,
  saveSession,
} from './session.js';
import { createStore } from './store.js';
import { toast } from './toasts.js';
import { canUseWorkbench, createWorkbench } from './workbench.js';

const $ = (id) => document.getElementById(id);
const ACTING_ROLES = ['operator', 'integrator', 'admin'];
/** Device values are not pushed (sensor frames are not for the console): refreshed this often while shown. */
const DEVICE_REFRESH_MS = 30_000;

let session = loadSession();
const api = createApi(() => session?.token ?? '');
const store = createStore();
let me;
let live;
let lastBoardParams = {};
let loadedStates = '';
let lastView = '';

const alarm = createAlarm({
  banner: $('banner'),
  soundButton: $('sound'),
  blockedButton: $('sound-blocked'),
  onOpenIncident: (id) => openIncident(id),
  muted: savedMute(),
});
alarm.onMuteChange(saveMute);
const header = createHeader({ me: () => me, operator: () => session?.operator });

const sessionView = {
  operator: () => session?.operator || undefined,
  role: () => me?.role ?? 'viewer',
  canAct: () => ACTING_ROLES.includes(me?.role),
};

const ctx = {
  api,
  store,
  toast,
  role: sessionView.role,
  canAct: sessionView.canAct,
  actions: createActions({ api, store, session: sessionView, toast }),
  tick,
  incidentHref: (id) => href('board', { ...lastBoardParams, incident: id }),
  boardHref: () => href('board', lastBoardParams),
  deviceHref(id) {
    const { view, params } = currentRoute();
    return view === 'plan'
      ? href('plan', { floor: params.get('floor'), device: id })
      : href('devices', { device: id });
  },
  planHref: (device, floor) => href('plan', { floor, device }),
  closeDeviceHref() {
    const { view, params } = currentRoute();
    const rest = Object.fromEntries(params);
    delete rest.device;
    return href(view, rest);
  },
  openDevice: (id) => patch({ device: id }),
  selectedDevice: () => currentRoute().params.get('device') ?? '',
};

const board = createBoard($('board'), ctx);
const detail = createDetail($('detail-col'), ctx);
$('detail-col').append(detail.el);
const devices = createDevices($('devices'), ctx);
const plan = createPlan($('plan'), ctx);
const kpis = createKpis($('kpis'), ctx);
const workbench = createWorkbench($('workbench'), ctx);
const panel = createDevicePanel(ctx);

function openIncident(id) {
  location.hash = ctx.incidentHref(id);
}

// ---- what the network brings ----

async function loadIncidents() {
  const startedAt = Date.now();
  const { params } = currentRoute();
  const extra = boardFilter(params).state.filter((s) => !ACTIVE_STATES.includes(s));
  loadedStates = extra.join(',');
  // Active incidents always, whatever the filter: the critical cue must not depend on what the board shows.
  const [active, more] = await Promise.all([
    api.incidents({ state: ACTIVE_STATES.join(','), limit: 1000 }),
    extra.length > 0 ? api.incidents({ state: extra.join(','), limit: 200 }) : [],
  ]);
  store.replaceIncidents([...active, ...more], startedAt);
}

async function loadDevices() {
  store.setDevices(await api.devices());
}

async function resync() {
  try {
    await Promise.all([loadIncidents(), loadDevices()]);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return signOut(t('login.expired'));
    toast(t('error.failed', { message: err.message }), 'error');
  }
  if (detail.id) detail.changed(detail.id);
}

const enriching = new Set();
/** A frame carries the incident's summary; the card also wants its place and who acknowledged. */
async function enrich(id) {
  if (enriching.has(id)) return;
  enriching.add(id);
  try {
    store.putIncident((await api.incident(id)).incident);
  } catch {
    /* the summary stays; the next frame or resync tries again */
  } finally {
    enriching.delete(id);
  }
}

const debounced = (fn, ms) => {
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
};
// Incidents change what a device shows (its colour, often its last value): one refetch per burst.
const refreshDevicesSoon = debounced(() => void loadDevices().catch(() => undefined), 800);
const refreshKpisSoon = debounced(() => {
  if (currentRoute().view === 'kpis') void kpis.reload();
}, 1500);

function onFrame(frame) {
  const data = frame.data ?? {};
  if (frame.type === 'incident') {
    const i = store.applyFrame(data);
    if (!i) return;
    if (detail.id === i.id) detail.changed(i.id);
    else if (data.transition !== 'escalated' || !i.context) void enrich(i.id);
    refreshDevicesSoon();
    refreshKpisSoon();
  } else if (frame.type === 'timeline') {
    if (typeof data.incidentId === 'string') detail.changed(data.incidentId);
  } else if (frame.type === 'notification') {
    store.noteNotification(data);
  } else if (frame.type === 'assignment') {
    // The incident's summary with the contact center's assignment: an incident frame, plus context.
    const i = store.applyFrame(data);
    if (i && detail.id === i.id) detail.changed(i.id);
    else if (i) void enrich(i.id);
  }
}

/** Once a second: elapsed times, "seen 3 min ago", the header's clock and countdown. No network. */
function tick() {
  const now = Date.now();
  for (const el of document.querySelectorAll('[data-since]')) {
    el.textContent = t('card.for', { d: fmtDuration(now - Number(el.dataset.since)) });
  }
  for (const el of document.querySelectorAll('[data-ago]')) {
    el.textContent = t('devices.seen', { ago: fmtAgo(Number(el.dataset.ago), now) });
  }
  header.tick(now);
}

// ---- views ----

function route() {
  const { view, params } = currentRoute();
  for (const section of document.querySelectorAll('main > .view'))
    section.hidden = section.dataset.view !== view;
  for (const a of document.querySelectorAll('#tabs a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (view === 'board') {
    const rest = Object.fromEntries(params);
    delete rest.incident;
    lastBoardParams = rest;
    const extra = boardFilter(params)
      .state.filter((s) => !ACTIVE_STATES.includes(s))
      .join(',');
    if (me && extra !== loadedStates) void loadIncidents().catch((err) => toast(err.message, 'error'));
    board.route(params);
    const id = params.get('incident');
    $('view-board').classList.toggle('has-detail', Boolean(id));
    if (id) {
      const first = detail.id !== id;
      detail.open(id);
      if (first && window.matchMedia('(max-width: 1099px)').matches) window.scrollTo(0, 0);
    } else detail.close();
  } else detail.close();
  if (view === 'devices' || view === 'plan') {
    const slot = document.querySelector(`#view-${view} [data-panel-slot]`);
    if (panel.el.parentElement !== slot) slot.append(panel.el);
    $(`view-${view}`).classList.toggle('has-panel', Boolean(params.get('device')));
    if (view === 'devices') devices.draw();
    else plan.route(params);
    panel.show(params.get('device') ?? '');
    if (view !== lastView) void loadDevices().catch(() => undefined);
  } else panel.hide();
  if (view === 'kpis' && view !== lastView) kpis.show();
  if (view === 'workbench' && view !== lastView) workbench.show();
  else if (view !== 'workbench') workbench.hide();
  lastView = view;
}

store.subscribe((what, id) => {
  const { view } = currentRoute();
  if (view === 'board') board.changed(what, id);
  if (view === 'devices') devices.draw();
  if (view === 'plan') plan.draw();
  panel.changed();
  alarm.update(store.incidents());
});

onLanguageChange(() => {
  translateStatic(document);
  header.draw();
  board.relabel();
  detail.relabel();
  panel.relabel();
  alarm.relabel();
  const { view } = currentRoute();
  if (view === 'devices') devices.draw();
  if (view === 'plan') plan.draw();
  if (view === 'kpis') kpis.relabel();
  if (view === 'workbench') workbench.relabel();
});

// ---- session ----

async function signIn(token, operator) {
  // The click that signs in is the gesture that lets the console make sound later.
  alarm.unlock();
  session = { token, operator };
  try {
    me = await api.me();
  } catch (err) {
    session = undefined;
    throw err;
  }
  saveSession(token, operator);
  start();
}

function start() {
  if (!savedLanguage() && LANGUAGES.includes(me.site?.language)) setLanguage(me.site.language);
  setTimeZone(me.site?.timezone ?? 'UTC');
  $('login').hidden = true;
  $('app').hidden = false;
  // The workbench records and replays the site's traffic: integrators' work, not the control room's.
  $('nav-workbench').hidden = !canUseWorkbench(me.role);
  translateStatic(document);
  header.draw();
  route();
  live = createLive({
    url: () => api.streamUrl(),
    onFrame,
    onOpen: () => void resync(),
    onState: (state, info) => {
      header.setConn(state, info);
      // A refused upgrade looks like any lost connection: ask the API whether the token still works.
      if (state === 'reconnecting' && info.attempt % 3 === 1) {
        api.me().catch((err) => {
          if (err instanceof ApiError && err.status === 401) signOut(t('login.expired'));
        });
      }
    },
  });
  live.start();
}

function signOut(message) {
  live?.stop();
  clearSession();
  session = undefined;
  if (message) sessionStorage.setItem('vigie.console.message', message);
  // A fresh page: no incident, frame or timer of the previous session survives into the next.
  location.hash = '';
  location.reload();
}

$('logout').addEventListener('click', () => signOut());
for (const select of [$('lang'), $('login-lang')]) {
  select.addEventListener('change', (e) => {
    saveLanguage(e.target.value);
    setLanguage(e.target.value);
    $('lang').value = e.target.value;
    $('login-lang').value = e.target.value;
  });
}

// The critical banner and the side columns stick just under the header, whatever its height.
new ResizeObserver(([entry]) => {
  document.documentElement.style.setProperty('--header-h', `${Math.ceil(entry.target.offsetHeight)}px`);
}).observe(document.querySelector('.topbar'));

setInterval(tick, 1000);
setInterval(() => {
  const { view } = currentRoute();
  if (me && document.visibilityState === 'visible' && (view === 'devices' || view === 'plan')) {
    void loadDevices().catch(() => undefined);
  }
}, DEVICE_REFRESH_MS);
onRoute(() => {
  if (me) route();
});

async function boot() {
  const lang = savedLanguage() ?? (navigator.language?.toLowerCase().startsWith('fr') ? 'fr' : 'en');
  setLanguage(lang);
  $('login-lang').value = language();
  translateStatic(document);
  const pending = sessionStorage.getItem('vigie.console.message') ?? undefined;
  sessionStorage.removeItem('vigie.console.message');
  if (session) {
    try {
      me = await api.me();
      start();
      return;
    } catch (err) {
      const expired = err instanceof ApiError && err.status === 401;
      if (expired) clearSession();
      session = expired ? undefined : session;
      showLogin({
        onSubmit: signIn,
        message: expired ? t('login.expired') : t('login.unreachable', { error: err.message }),
      });
      return;
    }
  }
  showLogin({ onSubmit: signIn, message: pending });
}

void boot();
