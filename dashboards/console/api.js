// The gateway's HTTP API as the console uses it. Paths are relative to the console's own address
// (`/console/` -> `/api/v1/`), so the console also works behind a proxy that adds a path prefix.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

const BASE = new URL('../api/v1/', document.baseURI);

export function createApi(getToken) {
  async function request(method, path, body) {
    const headers = { authorization: `Bearer ${getToken()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await fetch(new URL(path, BASE), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, 'NETWORK', err instanceof Error ? err.message : String(err));
    }
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = {};
    }
    if (!res.ok) {
      const e = json && json.error ? json.error : {};
      throw new ApiError(res.status, e.code ?? `HTTP_${res.status}`, e.message ?? res.statusText);
    }
    return json;
  }

  const q = (params) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') p.set(k, String(v));
    const s = p.toString();
    return s ? `?${s}` : '';
  };
  const id = encodeURIComponent;

  return {
    me: () => request('GET', 'me'),
    incidents: (filter) => request('GET', `incidents${q(filter)}`).then((r) => r.incidents),
    incident: (incidentId) => request('GET', `incidents/${id(incidentId)}`),
    acknowledge: (incidentId, by, note) =>
      request('POST', `incidents/${id(incidentId)}/acknowledge`, transition(by, note)).then(
        (r) => r.incident,
      ),
    resolve: (incidentId, by, note) =>
      request('POST', `incidents/${id(incidentId)}/resolve`, transition(by, note)).then((r) => r.incident),
    devices: () => request('GET', 'devices').then((r) => r.devices),
    device: (deviceId) => request('GET', `devices/${id(deviceId)}`).then((r) => r.device),
    history: (deviceId, field, since, until) =>
      request('GET', `devices/${id(deviceId)}/history${q({ field, since, until })}`),
    kpis: (since) => request('GET', `kpis${q({ since })}`),
    telemetry: () => request('GET', 'telemetry'),
    /** The WebSocket address; browsers cannot set headers on it, hence the token in the query. */
    streamUrl() {
      const u = new URL('stream', BASE);
      u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
      u.searchParams.set('token', getToken());
      return u.href;
    },
  };
}

function transition(by, note) {
  const body = {};
  if (by) body.by = by;
  if (note) body.note = note;
  return body;
}
