import { errorResponse, json, obj, operation } from './openapi-ops.js';

// The rule workbench (issue 8): recordings of the site's events and replays through the rules.
// Shapes are those of workbench/model.ts; the file format is described in workbench/recording.ts.

const epochMs = { type: 'integer', minimum: 0, description: 'Epoch milliseconds.' };
const str = { type: 'string' };
const count = { type: 'integer', minimum: 0 };
const ids = (what: string) => ({ type: 'array', items: str, description: `${what}; absent or empty: all.` });
const severity = { type: 'string', enum: ['critical', 'major', 'minor', 'info'] };

const selection = {
  type: 'object',
  description:
    'Which events are kept. Each list narrows the others (devices [a, b] with kinds [door]: the doors among a and b).',
  properties: { devices: ids('Device ids'), kinds: ids('Device kinds'), zones: ids('Zones') },
};

const recordingInfo = {
  type: 'object',
  required: [
    'id',
    'site',
    'selection',
    'state',
    'startedAt',
    'events',
    'actions',
    'bytes',
    'segments',
    'droppedSegments',
    'droppedEvents',
    'maxBytes',
  ],
  properties: {
    id: { type: 'string', pattern: '^rec_[0-9a-z]+$', examples: ['rec_m5kq1x2a0b3c4d5'] },
    name: str,
    site: str,
    selection,
    state: {
      type: 'string',
      enum: ['recording', 'stopped', 'interrupted'],
      description:
        'interrupted: the gateway stopped without closing it, or its disk failed; what was written stays readable.',
    },
    stopReason: { type: 'string', enum: ['requested', 'duration', 'full', 'shutdown'] },
    startedAt: epochMs,
    stoppedAt: epochMs,
    endsAt: { ...epochMs, description: 'Planned end (duration).' },
    events: { ...count, description: 'Events recorded, the dropped ones included.' },
    actions: { ...count, description: 'Acknowledgements and resolutions recorded.' },
    bytes: { ...count, description: 'Size on disk.' },
    segments: { ...count, description: 'Files on disk; each starts with its own header.' },
    droppedSegments: { ...count, description: 'Oldest segments deleted to stay under maxBytes.' },
    droppedEvents: { ...count, description: 'Events in the dropped segments.' },
    firstAt: { ...epochMs, description: 'First event still on disk.' },
    lastAt: { ...epochMs, description: 'Last event.' },
    maxBytes: { ...count, description: 'Size bound of the recording (all its segments).' },
  },
};

const replayIncident = {
  type: 'object',
  required: ['id', 'key', 'ruleId', 'deviceId', 'severity', 'state', 'openedAt', 'escalations'],
  properties: {
    id: str,
    key: { type: 'string', description: '`rule/device#n`: the n-th incident of this rule on this device.' },
    ruleId: str,
    ruleName: str,
    deviceId: str,
    deviceName: str,
    zone: str,
    severity,
    reason: str,
    state: { type: 'string', enum: ['open', 'acknowledged', 'cleared', 'resolved'] },
    openedAt: epochMs,
    triggerTs: epochMs,
    acknowledgedAt: epochMs,
    acknowledgedBy: str,
    clearedAt: epochMs,
    resolvedAt: epochMs,
    resolvedBy: str,
    escalations: {
      type: 'array',
      items: obj({ at: epochMs, step: count, repeat: { type: 'boolean' } }),
    },
    damped: { type: 'boolean', description: 'Flap-damped by storm control: pages nobody.' },
    groupId: str,
  },
};

const replayNotification = {
  type: 'object',
  required: ['at', 'incidentKey', 'channel', 'to', 'outcome', 'message'],
  properties: {
    at: epochMs,
    incidentId: str,
    incidentKey: str,
    ruleId: str,
    deviceId: str,
    severity,
    step: count,
    channel: str,
    channelType: str,
    to: { type: 'string', examples: ['person:sec-amina'] },
    toName: str,
    outcome: { type: 'string', enum: ['sent', 'suppressed', 'cancelled', 'failed'] },
    detail: str,
    message: { type: 'string', description: 'The text the channel would have sent.' },
  },
};

const replayLine = obj({
  at: epochMs,
  kind: {
    type: 'string',
    enum: ['opened', 'escalated', 'acknowledged', 'cleared', 'resolved', 'notification'],
  },
  incidentKey: str,
  severity,
  text: str,
});

const replayResult = {
  type: 'object',
  description: 'What the rules would have done; nothing was sent. Times are on the replay’s virtual clock.',
  required: [
    'site',
    'rules',
    'from',
    'to',
    'events',
    'actions',
    'skipped',
    'problems',
    'incidents',
    'notifications',
    'timeline',
    'wallMs',
  ],
  properties: {
    site: str,
    rules: { type: 'array', items: str },
    from: epochMs,
    to: epochMs,
    events: count,
    actions: count,
    skipped: { ...count, description: 'Lines left out (unknown device, undecodable line).' },
    problems: { type: 'array', items: str },
    incidents: { type: 'array', items: replayIncident },
    notifications: { type: 'array', items: replayNotification },
    timeline: { type: 'array', items: replayLine },
    wallMs: { ...count, description: 'Wall-clock time the replay took.' },
  },
};

const timeText = {
  description: 'Epoch milliseconds, or an ISO 8601 date.',
  oneOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', examples: ['2025-01-06T08:00:00Z'] },
  ],
};
const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'The recording id.',
};
const windowParam = (name: string, description: string) => ({
  name,
  in: 'query',
  required: false,
  schema: { type: 'string' },
  description: `${description} Epoch milliseconds or an ISO 8601 date.`,
});
const notFound = { '404': errorResponse('No such recording.') };
const ndjson = (description: string) => ({
  description,
  content: {
    'application/x-ndjson': {
      schema: {
        type: 'string',
        description:
          'JSON lines: a header line per segment ({"vigie":"recording","version":1,...}), events {"t","d","v"}, actions {"t","a","r","d","by"}, and an end line {"end","events"} once stopped.',
      },
    },
  },
});

export function workbenchPaths(): Record<string, unknown> {
  return {
    '/api/v1/recordings': {
      get: operation('listRecordings', {
        summary: 'Recordings of the site’s events, newest first',
        role: 'integrator',
        responses: {
          '200': {
            description: 'Recordings.',
            ...json(obj({ recordings: { type: 'array', items: recordingInfo } })),
          },
        },
      }),
      post: operation('startRecording', {
        summary: 'Start recording the site’s events (all devices, or a selection)',
        description:
          'The recording holds device ids and kinds, never names, people or credentials. It stops when asked, when its duration runs out, or at its size bound when workbench.whenFull is stop (with drop-oldest the oldest segments go instead).',
        role: 'integrator',
        requestBody: {
          required: false,
          ...json({
            type: 'object',
            additionalProperties: false,
            properties: {
              name: { type: 'string', maxLength: 200, examples: ['night shift, gates G'] },
              devices: ids('Device ids'),
              kinds: ids('Device kinds'),
              zones: ids('Zones'),
              duration: {
                type: 'string',
                description: 'Stops by itself after this.',
                examples: ['10m', '7d'],
              },
              maxBytes: {
                type: 'integer',
                minimum: 16384,
                description: 'Size bound of this recording; default workbench.maxBytes.',
              },
            },
          }),
        },
        responses: {
          '201': { description: 'Recording.', ...json(recordingInfo) },
          '400': errorResponse('Malformed body, or a device, kind or zone the site does not have.'),
          '409': errorResponse('workbench.maxActive recordings are running already.'),
          '413': errorResponse('Body larger than 64 KiB.'),
          '415': errorResponse('Not application/json.'),
          '503': errorResponse('The recordings directory cannot be written.'),
        },
      }),
    },
    '/api/v1/recordings/{id}': {
      get: operation('getRecording', {
        summary: 'One recording',
        role: 'integrator',
        parameters: [idParam],
        responses: { '200': { description: 'The recording.', ...json(recordingInfo) }, ...notFound },
      }),
      delete: operation('deleteRecording', {
        summary: 'Delete a recording and its files (stopping it first)',
        role: 'integrator',
        parameters: [idParam],
        responses: { '204': { description: 'Deleted.' }, ...notFound },
      }),
    },
    '/api/v1/recordings/{id}/stop': {
      post: operation('stopRecording', {
        summary: 'Stop a recording (a stopped one is answered as it is)',
        role: 'integrator',
        parameters: [idParam],
        responses: { '200': { description: 'The recording, stopped.', ...json(recordingInfo) }, ...notFound },
      }),
    },
    '/api/v1/recordings/{id}/events': {
      get: operation('downloadRecording', {
        summary: 'Download a recording: the file `vigie replay` reads',
        description:
          'Streamed as an attachment. A running recording is readable: up to what reached the disk. from / to keep the events and actions of [from, to); headers and the end line stay.',
        role: 'integrator',
        parameters: [
          idParam,
          windowParam('from', 'Leave out what happened before this.'),
          windowParam('to', 'Leave out what happened at or after this.'),
        ],
        responses: {
          '200': ndjson('The recording.'),
          '400': errorResponse('Bad from or to.'),
          ...notFound,
        },
      }),
    },
    '/api/v1/replays': {
      post: operation('replay', {
        summary: 'Replay a recording through the running rules on a virtual clock, sending nothing',
        description:
          'A stored recording (JSON, optionally a window of it) or an uploaded recording file (application/x-ndjson, streamed). One replay at a time.',
        role: 'integrator',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                required: ['recording'],
                properties: { recording: { type: 'string' }, from: timeText, to: timeText },
              },
            },
            'application/x-ndjson': {
              schema: {
                type: 'string',
                description: 'A recording file, as downloaded or written by `vigie record`.',
              },
            },
          },
        },
        responses: {
          '200': { description: 'What the rules would have done.', ...json(replayResult) },
          '400': errorResponse(
            'Malformed body, or an upload that is not a recording (no header line, other version).',
          ),
          '404': errorResponse('No such recording.'),
          '409': errorResponse('A replay is running.'),
          '413': errorResponse('The recording is larger than workbench.maxReplayBytes.'),
          '415': errorResponse('Neither application/json nor application/x-ndjson.'),
        },
      }),
    },
  };
}
