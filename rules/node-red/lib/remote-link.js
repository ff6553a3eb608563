'use strict';
// GatewayLink (gateway/src/red/link.ts) over the gateway's HTTP API: a Node-RED that is not the
// gateway's own embedded one. Requests carry the bearer token (role integrator or above); incident
// transitions and, while a `vigie listen` taps them, sensor events arrive on the WebSocket stream.

const WebSocket = require('ws');

const TIMEOUT_MS = 10_000;

/** Thrown when the gateway cannot be reached or fails (network, timeout, 5xx): worth retrying. */
class UnreachableError extends Error {
  constructor(message, cause) {
    super(message, { cause });
    this.name = 'UnreachableError';
    this.code = 'VIGIE_ERR_UNREACHABLE';
  }
}

/** The gateway answered and said no (401, 403, 404, 409, 400...): retrying the same call will not help. */
class RefusedError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'RefusedError';
    this.code = 'VIGIE_ERR_REFUSED';
    this.status = status;
  }
}

function errorText(body, status) {
  const e = body && body.error;
  if (e && typeof e.message === 'string') return e.message;
  return `HTTP ${status}`;
}

class RemoteLink {
  /**
   * @param {{ url: string, token: string, reconnectMinMs?: number, reconnectMaxMs?: number,
   *   timeoutMs?: number }} opts
   */
  constructor(opts) {
    this.mode = 'remote';
    this.base = String(opts.url || '').replace(/\/+$/, '');
    this.token = opts.token || '';
    this.timeoutMs = opts.timeoutMs || TIMEOUT_MS;
    this.minDelay = opts.reconnectMinMs || 500;
    this.maxDelay = opts.reconnectMaxMs || 30_000;
    this.incidentListeners = new Set();
    this.sensorListeners = new Set();
    this.statusListeners = new Set();
    this.current = { connected: false, error: 'connecting' };
    this.ws = undefined;
    this.wsSensor = false;
    this.delay = this.minDelay;
    this.timer = undefined;
    this.closed = false;
  }

  async request(method, path, body, accept = [200]) {
    if (this.closed) throw new UnreachableError('link closed');
    let res;
    try {
      res = await globalThis.fetch(this.base + path, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: globalThis.AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = err && err.cause;
      const why =
        err && err.name === 'TimeoutError' ? 'timeout' : (cause && (cause.code || cause.message)) || '';
      const message = `${why || (err && err.message)} at ${this.base}`;
      if (!this.ws) this.setStatus({ connected: false, error: message });
      throw new UnreachableError(message, err);
    }
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.status >= 500) {
      const message = `${errorText(json, res.status)} (HTTP ${res.status})`;
      if (!this.ws) this.setStatus({ connected: false, error: message });
      throw new UnreachableError(message);
    }
    if (!this.ws) this.setStatus({ connected: true });
    if (!accept.includes(res.status)) throw new RefusedError(res.status, errorText(json, res.status));
    return { status: res.status, body: json };
  }

  async catalog() {
    return (await this.request('GET', '/api/v1/catalog')).body;
  }

  async validateRules(sourceId, rules) {
    const path = `/api/v1/rule-sources/${encodeURIComponent(sourceId)}/validate`;
    return (await this.request('POST', path, { rules })).body;
  }

  async putRules(sourceId, label, rules) {
    const path = `/api/v1/rule-sources/${encodeURIComponent(sourceId)}`;
    // 422 is a rejected set: still a SourceResult, with the problems to show on the nodes.
    return (await this.request('PUT', path, { label, rules }, [200, 422])).body;
  }

  async inject(topic, payload) {
    const text = Buffer.isBuffer(payload) ? payload.toString('utf8') : payload;
    const r = await this.request('POST', '/api/v1/ingest', { topic, payload: text }, [200, 202, 400]);
    if (r.status === 400) return { ok: false, error: errorText(r.body, r.status) };
    return { ok: true, deviceId: r.body && r.body.deviceId };
  }

  async openIncidents() {
    const r = await this.request('GET', '/api/v1/incidents?state=open,acknowledged,cleared&limit=1000');
    return (r.body && r.body.incidents) || [];
  }

  async act(action, incidentId, by, note) {
    if (action !== 'acknowledge' && action !== 'resolve') throw new Error(`unknown action ${action}`);
    const body = {};
    if (by) body.by = by;
    if (note !== undefined) body.note = note;
    const path = `/api/v1/incidents/${encodeURIComponent(incidentId)}/${action}`;
    return (await this.request('POST', path, body)).body.incident;
  }

  onSensorEvent(listener) {
    this.sensorListeners.add(listener);
    this.updateStream();
    return () => {
      this.sensorListeners.delete(listener);
      this.updateStream();
    };
  }

  onIncident(listener) {
    this.incidentListeners.add(listener);
    this.updateStream();
    return () => {
      this.incidentListeners.delete(listener);
      this.updateStream();
    };
  }

  status() {
    return { ...this.current };
  }

  onStatus(listener) {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  async close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.incidentListeners.clear();
    this.sensorListeners.clear();
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      await new Promise((resolve) => {
        ws.once('close', resolve);
        ws.terminate();
      });
    }
    this.statusListeners.clear();
  }

  setStatus(s) {
    if (s.connected === this.current.connected && s.error === this.current.error) return;
    this.current = s.connected ? { connected: true } : { connected: false, error: s.error };
    for (const l of [...this.statusListeners]) l(this.status());
  }

  // The stream is open while someone listens, with ?sensor=1 only while a listen node taps sensor
  // events: the gateway then copies its hot path to us, otherwise not.
  updateStream() {
    if (this.closed) return;
    const wanted = this.incidentListeners.size + this.sensorListeners.size > 0;
    const sensor = this.sensorListeners.size > 0;
    if (!wanted) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.drop();
      return;
    }
    if (this.ws && this.wsSensor === sensor) return;
    if (this.timer && !this.ws) return; // a reconnect is already scheduled
    this.drop();
    this.connect();
  }

  drop() {
    const ws = this.ws;
    this.ws = undefined;
    // Its close handler sees it is no longer the current socket and schedules nothing.
    if (ws) ws.terminate();
  }

  connect() {
    clearTimeout(this.timer);
    this.timer = undefined;
    const sensor = this.sensorListeners.size > 0;
    const url = `${this.base.replace(/^http/, 'ws')}/api/v1/stream${sensor ? '?sensor=1' : ''}`;
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${this.token}` } });
    this.ws = ws;
    this.wsSensor = sensor;
    let failure;
    ws.on('open', () => {
      this.delay = this.minDelay;
      this.setStatus({ connected: true });
    });
    ws.on('unexpected-response', (_req, res) => {
      failure = `stream refused: HTTP ${res.statusCode}`;
      res.resume();
      ws.terminate();
    });
    ws.on('error', (err) => {
      failure = failure || (err && (err.code || err.message)) || 'stream error';
    });
    ws.on('message', (data) => this.dispatch(data));
    ws.on('close', () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.setStatus({ connected: false, error: failure ? `${failure} at ${this.base}` : 'stream closed' });
      if (this.closed) return;
      const wait = this.delay;
      this.delay = Math.min(this.maxDelay, this.delay * 2);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.updateStream();
      }, wait);
      if (this.timer.unref) this.timer.unref();
    });
  }

  dispatch(data) {
    let e;
    try {
      e = JSON.parse(String(data));
    } catch {
      return;
    }
    if (!e || typeof e !== 'object' || !e.data) return;
    if (e.type === 'incident') {
      const { transition, ...incident } = e.data;
      const ev = { transition, incident };
      for (const l of [...this.incidentListeners]) safe(l, ev);
    } else if (e.type === 'sensor') {
      for (const l of [...this.sensorListeners]) safe(l, e.data);
    }
  }
}

// A listener that throws must not stop the others nor the socket.
function safe(listener, value) {
  try {
    listener(value);
  } catch {
    // the node reports its own errors
  }
}

module.exports = { RemoteLink, UnreachableError, RefusedError };
