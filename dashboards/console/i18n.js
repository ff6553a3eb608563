// Every word the console shows, in English and French, and the formatting of dates, durations and
// numbers (Intl, in the site's time zone: the console shows the site's clock, wherever it is opened).

const en = {
  'app.title': 'Vigie console',
  'login.title': 'Sign in to the console',
  'login.lead': 'Live incidents, devices and site plan.',
  'login.token': 'API token',
  'login.operator': 'Your name (optional)',
  'login.operatorHint': 'Recorded with your acknowledgements when the token is shared.',
  'login.submit': 'Sign in',
  'login.bad': 'This token is not accepted.',
  'login.unreachable': 'The gateway does not answer ({error}).',
  'login.badName': "A name is 1 to 64 letters, digits, spaces or . _ @ + ' -",
  'login.expired': 'The session ended: sign in again.',
  'header.signedIn': '{name} · {role}',
  'header.as': 'as {who}',
  logout: 'Sign out',
  language: 'Language',
  'nav.board': 'Incidents',
  'nav.devices': 'Devices',
  'nav.plan': 'Site plan',
  'nav.kpis': 'Indicators',
  'conn.connecting': 'Connecting…',
  'conn.live': 'Live',
  'conn.reconnecting': 'Connection lost, retrying in {s} s',
  'conn.offline': 'Offline',
  'sound.on': 'Sound on',
  'sound.muted': 'Sound muted',
  'sound.blocked': 'Sound blocked: click to enable',
  'sev.critical': 'Critical',
  'sev.major': 'Major',
  'sev.minor': 'Minor',
  'sev.info': 'Info',
  'state.open': 'Open',
  'state.acknowledged': 'Acknowledged',
  'state.cleared': 'Cleared',
  'state.resolved': 'Resolved',
  'role.viewer': 'viewer',
  'role.operator': 'operator',
  'role.integrator': 'integrator',
  'role.admin': 'admin',
  'filter.zone': 'Zone',
  'filter.allZones': 'All zones',
  'filter.severity': 'Severity',
  'filter.state': 'State',
  'filter.clear': 'Clear filters',
  'filter.title': 'Filters',
  'filter.active': '{n} active',
  'board.empty': 'No incident here. All quiet.',
  'board.shown': '{n} shown',
  'board.title': 'Incidents',
  'action.ack': 'Acknowledge',
  'action.resolve': 'Resolve',
  'action.confirmResolve': 'Tap again to resolve',
  'action.details': 'Details',
  'action.back': 'Back',
  'action.close': 'Close',
  'action.refresh': 'Refresh',
  'action.note': 'Note (optional)',
  'action.done.acknowledged': 'Acknowledged.',
  'action.done.resolved': 'Resolved.',
  'role.cannot': 'Your role ({role}) can watch but not act: acknowledging needs an operator token.',
  'error.refused': 'Refused by the gateway: {message}',
  'error.failed': 'It did not work: {message}',
  'card.ackBy': 'Acknowledged by {who}, {time}',
  'card.resolvedBy': 'Resolved by {who}, {time}',
  'card.openedAt': 'Opened {time}',
  'card.for': 'for {d}',
  'card.step': 'escalation step {n}',
  'banner.critical': 'CRITICAL — {rule}: {device}',
  'banner.more': '+{n} more',
  'detail.title': 'Incident',
  'detail.notFound': 'This incident does not exist (any more).',
  'detail.rule': 'Rule',
  'detail.device': 'Device',
  'detail.zone': 'Zone',
  'detail.opened': 'Opened',
  'detail.ackCode': 'SMS code',
  'detail.values': 'Values at opening',
  'detail.location': 'Location',
  'detail.floor': 'Floor {n}',
  'detail.onPlan': 'Show on the site plan',
  'detail.camera': 'Camera',
  'detail.snapshot': 'Camera snapshot',
  'detail.snapshotMissing': 'The snapshot cannot be loaded.',
  'detail.stream': 'Open the video stream',
  'detail.speaker': 'Speaker',
  'detail.talk': 'Talk to the cabinet',
  'detail.customer': 'Customer',
  'detail.phone': 'Phone',
  'detail.email': 'E-mail',
  'detail.address': 'Address',
  'detail.contract': 'Contract',
  'detail.technician': 'Technician',
  'detail.jobState': 'Job',
  'detail.eta': 'Arrival',
  'detail.distance': 'Distance',
  'detail.travel': 'Travel',
  'detail.survey': 'Customer score',
  'detail.timeline': 'Timeline',
  'detail.deliveries': 'Notifications',
  'detail.chart': 'Recent values',
  'detail.chartEmpty': 'No recorded values in this window.',
  'detail.chartError': 'History unavailable: {message}',
  'detail.source.influx': 'Source: InfluxDB',
  'detail.source.store': 'Source: gateway',
  'detail.range': 'Window',
  'detail.updated': 'updated {time}',
  'col.channel': 'Channel',
  'col.recipient': 'To',
  'col.state': 'Status',
  'col.attempts': 'Attempts',
  'col.latency': 'Latency',
  'col.delivered': 'Delivered',
  'col.error': 'Last error',
  'delivery.pending': 'pending',
  'delivery.sending': 'sending',
  'delivery.sent': 'sent',
  'delivery.delivered': 'delivered',
  'delivery.failed': 'failed',
  'delivery.cancelled': 'cancelled',
  'delivery.suppressed': 'suppressed',
  'delivery.retry': 'will retry',
  'delivery.via': 'via {channel}',
  'tl.opened': 'Opened by rule {rule}',
  'tl.planned': '{n} notifications planned',
  'tl.storm': 'storm control: {kind}',
  'tl.notification': '{channel} to {to}: {outcome}',
  'tl.attempt': 'attempt {n}',
  'tl.step': 'step {n}',
  'tl.acknowledged': 'Acknowledged by {who}',
  'tl.resolved': 'Resolved by {who}',
  'tl.cleared': 'The condition ended (cleared)',
  'tl.escalated': 'Escalated to step {n}',
  'tl.escalatedRepeat': 'Escalation repeated (step {n})',
  'tl.note': 'Note by {who}',
  'tl.crmFound': 'Customer found in the CRM: {customer}',
  'tl.crmNotFound': 'No customer found in the CRM',
  'tl.crmError': 'CRM lookup failed: {error}',
  'tl.job': 'Technician job: {event}',
  'tl.customer': 'Customer informed: {event}',
  'tl.assignment': 'Routed by the contact center',
  'tl.queue': 'queue {queue}',
  'tl.wait': 'estimated wait {d}',
  'tl.callback': 'callback offered',
  'tl.via': 'via {via}',
  'actor.system': 'the gateway',
  'job.offered': 'offered',
  'job.accepted': 'accepted',
  'job.enroute': 'on the way',
  'job.arrived': 'on site',
  'job.resolved': 'resolved',
  'job.unassigned': 'nobody available',
  'devices.title': 'Devices',
  'devices.empty': 'No device.',
  'devices.online': 'Online',
  'devices.offline': 'Offline',
  'devices.offline.status': 'Offline: said goodbye (last will)',
  'devices.offline.silent': 'Offline: silent past its heartbeat',
  'devices.offline.never': 'Offline: never reported',
  'devices.battery': 'Battery {n} %',
  'devices.batteryLow': 'Battery low: {n} %',
  'devices.seen': 'seen {ago}',
  'devices.never': 'never seen',
  'devices.incidents': '{n} open incident(s)',
  'devices.noValues': 'no value yet',
  'plan.title': 'Site plan',
  'plan.floor': 'Floor {n}',
  'plan.none': 'No device has coordinates.',
  'plan.unplaced': 'Without coordinates: {list}',
  'plan.legend.ok': 'OK',
  'plan.legend.offline': 'offline',
  'plan.legend.battery': 'battery low',
  'kpi.title': 'Indicators',
  'kpi.open': 'Open now',
  'kpi.opened': 'Opened',
  'kpi.mtta': 'Mean time to acknowledge',
  'kpi.mttr': 'Mean time to resolve',
  'kpi.perZone': 'Per zone',
  'kpi.window': 'Window',
  'kpi.24h': '24 h',
  'kpi.7d': '7 days',
  'kpi.30d': '30 days',
  'kpi.none': '—',
  'kpi.source.influx': 'Durations from InfluxDB',
  'kpi.source.store': 'Durations from the gateway’s own store',
  'kpi.telemetry.off': 'InfluxDB not configured',
  'kpi.telemetry.on': 'InfluxDB {state} · {written} written · {buffered} waiting · {dropped} dropped',
  'kpi.telemetry.connected': 'connected',
  'kpi.telemetry.down': 'unreachable',
  'value.yes': 'yes',
  'value.no': 'no',
  'bool.open.true': 'open',
  'bool.open.false': 'closed',
  'bool.present.true': 'in place',
  'bool.present.false': 'REMOVED',
  'bool.cabinetOpen.true': 'cabinet open',
  'bool.cabinetOpen.false': 'cabinet closed',
  'bool.online.true': 'online',
  'bool.online.false': 'offline',
  'field.celsius': 'Temperature',
  'field.humidity': 'Humidity',
  'field.battery': 'Battery',
  'field.open': 'Door',
  'field.present': 'AED',
  'field.cabinetOpen': 'Cabinet',
  'field.code': 'Fault code',
  'kind.door': 'Door',
  'kind.temperature': 'Temperature',
  'kind.aed': 'AED',
  'kind.appliance': 'Appliance',
};

const fr = {
  'app.title': 'Console Vigie',
  'login.title': 'Connexion à la console',
  'login.lead': 'Incidents en direct, équipements et plan du site.',
  'login.token': "Jeton d'API",
  'login.operator': 'Votre nom (facultatif)',
  'login.operatorHint': 'Enregistré avec vos acquittements quand le jeton est partagé.',
  'login.submit': 'Se connecter',
  'login.bad': "Ce jeton n'est pas accepté.",
  'login.unreachable': 'La passerelle ne répond pas ({error}).',
  'login.badName': "Un nom fait 1 à 64 lettres, chiffres, espaces ou . _ @ + ' -",
  'login.expired': 'La session a pris fin : reconnectez-vous.',
  'header.signedIn': '{name} · {role}',
  'header.as': 'par {who}',
  logout: 'Se déconnecter',
  language: 'Langue',
  'nav.board': 'Incidents',
  'nav.devices': 'Équipements',
  'nav.plan': 'Plan du site',
  'nav.kpis': 'Indicateurs',
  'conn.connecting': 'Connexion…',
  'conn.live': 'En direct',
  'conn.reconnecting': 'Connexion perdue, nouvel essai dans {s} s',
  'conn.offline': 'Hors ligne',
  'sound.on': 'Son activé',
  'sound.muted': 'Son coupé',
  'sound.blocked': 'Son bloqué : cliquez pour l’activer',
  'sev.critical': 'Critique',
  'sev.major': 'Majeur',
  'sev.minor': 'Mineur',
  'sev.info': 'Info',
  'state.open': 'Ouvert',
  'state.acknowledged': 'Acquitté',
  'state.cleared': 'Rétabli',
  'state.resolved': 'Résolu',
  'role.viewer': 'lecteur',
  'role.operator': 'opérateur',
  'role.integrator': 'intégrateur',
  'role.admin': 'administrateur',
  'filter.zone': 'Zone',
  'filter.allZones': 'Toutes les zones',
  'filter.severity': 'Gravité',
  'filter.state': 'État',
  'filter.clear': 'Effacer les filtres',
  'filter.title': 'Filtres',
  'filter.active': '{n} actif(s)',
  'board.empty': 'Aucun incident ici. Tout est calme.',
  'board.shown': '{n} affiché(s)',
  'board.title': 'Incidents',
  'action.ack': 'Acquitter',
  'action.resolve': 'Résoudre',
  'action.confirmResolve': 'Touchez encore pour résoudre',
  'action.details': 'Détails',
  'action.back': 'Retour',
  'action.close': 'Fermer',
  'action.refresh': 'Actualiser',
  'action.note': 'Note (facultative)',
  'action.done.acknowledged': 'Acquitté.',
  'action.done.resolved': 'Résolu.',
  'role.cannot':
    'Votre rôle ({role}) permet de consulter, pas d’agir : acquitter demande un jeton d’opérateur.',
  'error.refused': 'Refusé par la passerelle : {message}',
  'error.failed': 'Échec : {message}',
  'card.ackBy': 'Acquitté par {who}, {time}',
  'card.resolvedBy': 'Résolu par {who}, {time}',
  'card.openedAt': 'Ouvert à {time}',
  'card.for': 'depuis {d}',
  'card.step': 'escalade niveau {n}',
  'banner.critical': 'CRITIQUE — {rule} : {device}',
  'banner.more': '+{n} autre(s)',
  'detail.title': 'Incident',
  'detail.notFound': "Cet incident n'existe pas (ou plus).",
  'detail.rule': 'Règle',
  'detail.device': 'Équipement',
  'detail.zone': 'Zone',
  'detail.opened': 'Ouvert',
  'detail.ackCode': 'Code SMS',
  'detail.values': "Valeurs à l'ouverture",
  'detail.location': 'Emplacement',
  'detail.floor': 'Niveau {n}',
  'detail.onPlan': 'Voir sur le plan du site',
  'detail.camera': 'Caméra',
  'detail.snapshot': 'Image de la caméra',
  'detail.snapshotMissing': "L'image ne peut pas être chargée.",
  'detail.stream': 'Ouvrir le flux vidéo',
  'detail.speaker': 'Haut-parleur',
  'detail.talk': "Parler à l'armoire",
  'detail.customer': 'Client',
  'detail.phone': 'Téléphone',
  'detail.email': 'E-mail',
  'detail.address': 'Adresse',
  'detail.contract': 'Contrat',
  'detail.technician': 'Technicien',
  'detail.jobState': 'Intervention',
  'detail.eta': 'Arrivée',
  'detail.distance': 'Distance',
  'detail.travel': 'Trajet',
  'detail.survey': 'Note du client',
  'detail.timeline': 'Chronologie',
  'detail.deliveries': 'Notifications',
  'detail.chart': 'Valeurs récentes',
  'detail.chartEmpty': 'Aucune valeur enregistrée sur cette période.',
  'detail.chartError': 'Historique indisponible : {message}',
  'detail.source.influx': 'Source : InfluxDB',
  'detail.source.store': 'Source : passerelle',
  'detail.range': 'Période',
  'detail.updated': 'mis à jour à {time}',
  'col.channel': 'Canal',
  'col.recipient': 'Destinataire',
  'col.state': 'Statut',
  'col.attempts': 'Essais',
  'col.latency': 'Latence',
  'col.delivered': 'Remis',
  'col.error': 'Dernière erreur',
  'delivery.pending': 'en attente',
  'delivery.sending': 'en cours',
  'delivery.sent': 'envoyé',
  'delivery.delivered': 'remis',
  'delivery.failed': 'échec',
  'delivery.cancelled': 'annulé',
  'delivery.suppressed': 'supprimé',
  'delivery.retry': 'nouvel essai prévu',
  'delivery.via': 'par {channel}',
  'tl.opened': 'Ouvert par la règle {rule}',
  'tl.planned': '{n} notification(s) prévue(s)',
  'tl.storm': 'contrôle de tempête : {kind}',
  'tl.notification': '{channel} vers {to} : {outcome}',
  'tl.attempt': 'essai {n}',
  'tl.step': 'niveau {n}',
  'tl.acknowledged': 'Acquitté par {who}',
  'tl.resolved': 'Résolu par {who}',
  'tl.cleared': 'La condition a cessé (rétabli)',
  'tl.escalated': 'Escaladé au niveau {n}',
  'tl.escalatedRepeat': 'Escalade répétée (niveau {n})',
  'tl.note': 'Note de {who}',
  'tl.crmFound': 'Client trouvé dans le CRM : {customer}',
  'tl.crmNotFound': 'Aucun client trouvé dans le CRM',
  'tl.crmError': 'Échec de la recherche CRM : {error}',
  'tl.job': 'Intervention : {event}',
  'tl.customer': 'Client informé : {event}',
  'tl.assignment': 'Routé par le centre de contact',
  'tl.queue': 'file {queue}',
  'tl.wait': 'attente estimée {d}',
  'tl.callback': 'rappel proposé',
  'tl.via': 'via {via}',
  'actor.system': 'la passerelle',
  'job.offered': 'proposée',
  'job.accepted': 'acceptée',
  'job.enroute': 'en route',
  'job.arrived': 'sur place',
  'job.resolved': 'terminée',
  'job.unassigned': 'personne de disponible',
  'devices.title': 'Équipements',
  'devices.empty': 'Aucun équipement.',
  'devices.online': 'En ligne',
  'devices.offline': 'Hors ligne',
  'devices.offline.status': "Hors ligne : s'est déclaré parti (dernière volonté)",
  'devices.offline.silent': 'Hors ligne : muet au-delà de son battement',
  'devices.offline.never': 'Hors ligne : jamais entendu',
  'devices.battery': 'Pile {n} %',
  'devices.batteryLow': 'Pile faible : {n} %',
  'devices.seen': 'vu {ago}',
  'devices.never': 'jamais vu',
  'devices.incidents': '{n} incident(s) ouvert(s)',
  'devices.noValues': 'pas encore de valeur',
  'plan.title': 'Plan du site',
  'plan.floor': 'Niveau {n}',
  'plan.none': "Aucun équipement n'a de coordonnées.",
  'plan.unplaced': 'Sans coordonnées : {list}',
  'plan.legend.ok': 'OK',
  'plan.legend.offline': 'hors ligne',
  'plan.legend.battery': 'pile faible',
  'kpi.title': 'Indicateurs',
  'kpi.open': 'Ouverts maintenant',
  'kpi.opened': 'Ouverts',
  'kpi.mtta': "Délai moyen d'acquittement",
  'kpi.mttr': 'Délai moyen de résolution',
  'kpi.perZone': 'Par zone',
  'kpi.window': 'Période',
  'kpi.24h': '24 h',
  'kpi.7d': '7 jours',
  'kpi.30d': '30 jours',
  'kpi.none': '—',
  'kpi.source.influx': 'Durées issues d’InfluxDB',
  'kpi.source.store': 'Durées issues de la base de la passerelle',
  'kpi.telemetry.off': 'InfluxDB non configuré',
  'kpi.telemetry.on': 'InfluxDB {state} · {written} écrits · {buffered} en attente · {dropped} perdus',
  'kpi.telemetry.connected': 'connecté',
  'kpi.telemetry.down': 'injoignable',
  'value.yes': 'oui',
  'value.no': 'non',
  'bool.open.true': 'ouverte',
  'bool.open.false': 'fermée',
  'bool.present.true': 'en place',
  'bool.present.false': 'RETIRÉ',
  'bool.cabinetOpen.true': 'armoire ouverte',
  'bool.cabinetOpen.false': 'armoire fermée',
  'bool.online.true': 'en ligne',
  'bool.online.false': 'hors ligne',
  'field.celsius': 'Température',
  'field.humidity': 'Humidité',
  'field.battery': 'Pile',
  'field.open': 'Porte',
  'field.present': 'DAE',
  'field.cabinetOpen': 'Armoire',
  'field.code': 'Code défaut',
  'kind.door': 'Porte',
  'kind.temperature': 'Température',
  'kind.aed': 'DAE',
  'kind.appliance': 'Appareil',
};

/** Every text in both languages: a key missing in one of them is a test failure, not a surprise. */
export const STRINGS = { en, fr };
export const LANGUAGES = Object.keys(STRINGS);

let lang = 'en';
let timeZone = 'UTC';
const listeners = new Set();

export function language() {
  return lang;
}

export function setLanguage(next) {
  const l = LANGUAGES.includes(next) ? next : 'en';
  if (l === lang) return;
  lang = l;
  document.documentElement.lang = l;
  for (const fn of listeners) fn(l);
}

export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function setTimeZone(tz) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    timeZone = tz;
  } catch {
    timeZone = 'UTC';
  }
}

/** `t('card.ackBy', { who, time })`; a key with no text shows as itself, so a gap is visible. */
export function t(key, vars) {
  const text = STRINGS[lang][key] ?? en[key] ?? key;
  return vars ? text.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : text;
}

export function has(key) {
  return key in en;
}

/** Fills elements marked `data-i18n="key"` (text), `data-i18n-placeholder`, `-title` and `-aria` (label). */
export function translateStatic(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]'))
    el.setAttribute('placeholder', t(el.dataset.i18nPlaceholder));
  for (const el of root.querySelectorAll('[data-i18n-title]'))
    el.setAttribute('title', t(el.dataset.i18nTitle));
  for (const el of root.querySelectorAll('[data-i18n-aria]'))
    el.setAttribute('aria-label', t(el.dataset.i18nAria));
}

const cache = new Map();
function dtf(opts) {
  const key = lang + timeZone + JSON.stringify(opts);
  let f = cache.get(key);
  if (!f) {
    // A control room reads 24-hour times in both languages: no AM/PM to misread at 3 a.m.
    f = new Intl.DateTimeFormat(lang, { timeZone, hourCycle: 'h23', ...opts });
    cache.set(key, f);
  }
  return f;
}

export function fmtTime(ms) {
  return dtf({ hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(ms);
}

export function fmtClock(ms) {
  return dtf({ hour: '2-digit', minute: '2-digit' }).format(ms);
}

/** Time alone when it is today at the site, else date and time. */
export function fmtWhen(ms, now = Date.now()) {
  const day = dtf({ year: 'numeric', month: '2-digit', day: '2-digit' });
  if (day.format(ms) === day.format(now)) return fmtTime(ms);
  return dtf({ day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(ms);
}

export function fmtAxisTime(ms, spanMs) {
  return spanMs > 36 * 3600_000
    ? dtf({ day: 'numeric', month: 'short', hour: '2-digit' }).format(ms)
    : fmtClock(ms);
}

/** 4 h 05 min, 3 min 12 s, 850 ms: the two largest units, the way people say it. */
export function fmtDuration(ms) {
  if (!Number.isFinite(ms)) return t('kpi.none');
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const pad = (n) => String(n).padStart(2, '0');
  if (d > 0) return `${d} ${lang === 'fr' ? 'j' : 'd'} ${hh} h`;
  if (hh > 0) return `${hh} h ${pad(mm)} min`;
  if (mm > 0) return `${mm} min ${pad(ss)} s`;
  return `${ss} s`;
}

export function fmtAgo(ms, now = Date.now()) {
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  const diff = (ms - now) / 1000;
  const abs = Math.abs(diff);
  if (abs < 45) return rtf.format(Math.round(diff), 'second');
  if (abs < 2700) return rtf.format(Math.round(diff / 60), 'minute');
  if (abs < 129600) return rtf.format(Math.round(diff / 3600), 'hour');
  return rtf.format(Math.round(diff / 86400), 'day');
}

export function fmtNumber(n, digits = 1) {
  return new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(n);
}

export function zoneName() {
  return timeZone;
}
