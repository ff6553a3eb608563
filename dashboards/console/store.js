// What the console knows right now: incidents (from the initial fetch, then live frames) and devices.
// Views subscribe and redraw; nothing here talks to the network.

import { rememberName } from './labels.js';

export function createStore() {
  const incidents = new Map();
  let devices = [];
  const listeners = new Set();

  const emit = (what, id) => {
    for (const fn of listeners) fn(what, id);
  };

  /** Keeps whichever copy is newer: a fetch that raced a live frame must not bring back the past. */
  function upsert(incoming) {
    const cur = incidents.get(incoming.id);
    if (cur && (cur.updatedAt ?? 0) > (incoming.updatedAt ?? 0)) return false;
    // A frame carries the summary only: what a full fetch brought (context, who acknowledged) stays.
    incidents.set(incoming.id, cur ? { ...cur, ...incoming } : incoming);
    return true;
  }

  return {
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    incidents: () => [...incidents.values()],
    incident: (id) => incidents.get(id),
    devices: () => devices,
    device: (id) => devices.find((d) => d.id === id),

    /** The board's query answered: it replaces what is held, except copies newer than the answer. */
    replaceIncidents(list, startedAt) {
      const fresh = new Set(list.map((i) => i.id));
      for (const [id, i] of incidents) {
        // Kept: what arrived live while the query was in flight.
        if (!fresh.has(id) && (i.updatedAt ?? 0) < startedAt) incidents.delete(id);
      }
      for (const i of list) upsert(i);
      emit('incidents');
    },
    putIncident(i) {
      if (upsert(i)) emit('incident', i.id);
    },
    /** An `incident` frame: the summary the stream carries, in the API's Incident field names. */
    applyFrame(data) {
      const i = fromSummary(data);
      if (!i) return undefined;
      if (upsert(i)) emit('incident', i.id);
      return incidents.get(i.id);
    },
    setDevices(list) {
      devices = list;
      emit('devices');
    },
    noteNotification(data) {
      if (data && data.recipient)
        rememberName(`${data.recipient.kind}:${data.recipient.id}`, data.recipient.name);
    },
  };
}

function fromSummary(d) {
  if (!d || typeof d.id !== 'string') return undefined;
  const i = {
    id: d.id,
    ruleId: d.rule,
    ruleName: d.ruleName,
    deviceId: d.device,
    deviceName: d.deviceName,
    zone: d.zone,
    severity: d.severity,
    state: d.state,
    reason: d.reason,
    message: d.message,
    openedAt: d.openedAt,
    updatedAt: d.at,
    escalationStep: d.escalationStep,
    values: d.values,
  };
  for (const k of Object.keys(i)) if (i[k] === undefined) delete i[k];
  return i;
}
