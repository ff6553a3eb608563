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
  /** The raw response of a request that went well; an ApiError with the gateway's words otherwise. */
  async function send(method, path, { body, type } = {}) {
    const headers = { authorization: `Bearer ${getToken()}` };
    if (type) headers['content-type'] = type;
    let res;
    try {
      res = await fetch(new URL(path, BASE), { method, headers, body, cache: 'no-store' });
    } catch (err) {
      throw new ApiError(0, 'NETWORK', err instanceof Error ? err.message : String(err));
    }
    if (!res.ok) {
      let e = {};
      try {
        const json = JSON.parse(await res.text());
        if (json && json.error) e = json.error;
      } catch {
        /* not JSON: the status says it */
      }
      throw new ApiError(res.status, e.code ?? `HTTP_${res.status}`, e.message ?? res.statusText);
    }
    return res;
  }

  async function request(method, path, body) {
    const res = await send(
      method,
      path,
      body === undefined ? {} : { body: JSON.stringify(body), type: 'application/json' },
    );
    const text = await res.text();
    try {
      return text ? JSON.parse(text) : {};
    } catch {
      return {};
    }
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
    recordings: () => request('GET', 'recordings').then((r) => r.recordings),
    startRecording: (body) => request('POST', 'recordings', body),
    stopRecording: (recordingId) => request('POST', `recordings/${id(recordingId)}/stop`, {}),
    deleteRecording: (recordingId) => request('DELETE', `recordings/${id(recordingId)}`),
    /** The recording's JSON lines as a Blob to save: a plain link could not carry the token. */
    recordingFile: (recordingId, from, to) =>
      send('GET', `recordings/${id(recordingId)}/events${q({ from, to })}`).then((r) => r.blob()),
    /** `{ recording, from?, to? }`: a recorded window through the gateway's current rules. */
    replay: (body) => request('POST', 'replays', body),
    /** An uploaded recording (a File), sent as it is. */
    replayFile: (file) =>
      send('POST', 'replays', { body: file, type: 'application/x-ndjson' }).then((r) => r.json()),
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
