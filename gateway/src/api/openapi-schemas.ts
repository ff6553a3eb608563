// JSON Schemas (2020-12, as OpenAPI 3.1 uses) of what the API sends. They mirror route/model.ts and
// api/ports.ts; keep them in step when those change.

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const epochMs = { type: 'integer', description: 'Epoch milliseconds.' } as const;
const scalar = { type: ['number', 'boolean', 'string', 'null'] } as const;
const severity = { type: 'string', enum: ['critical', 'major', 'minor', 'warning'] } as const;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

export const schemas = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', pattern: '^VIGIE_ERR_[A-Z_]+$', examples: ['VIGIE_ERR_NOT_FOUND'] },
          message: str,
        },
      },
    },
  },
  IncidentState: { type: 'string', enum: ['open', 'acknowledged', 'cleared', 'resolved'] },
  Severity: severity,
  Incident: {
    type: 'object',
    required: [
      'id',
      'site',
      'ruleId',
      'ruleName',
      'deviceId',
      'deviceName',
      'zone',
      'severity',
      'state',
      'reason',
      'message',
      'triggerTs',
      'openedAt',
      'escalationStep',
      'values',
      'context',
      'updatedAt',
    ],
    properties: {
      id: str,
      site: str,
      ruleId: str,
      ruleName: str,
      deviceId: str,
      deviceName: str,
      zone: str,
      severity: ref('Severity'),
      state: ref('IncidentState'),
      reason: str,
      message: str,
      triggerTs: { ...epochMs, description: 'Time of the sensor event that opened it (epoch ms).' },
      openedAt: epochMs,
      acknowledgedAt: epochMs,
      acknowledgedBy: { type: 'string', examples: ['token:ops-console/alice'] },
      clearedAt: epochMs,
      resolvedAt: epochMs,
      resolvedBy: str,
      escalationStep: { ...int, minimum: 0 },
      values: { type: 'object', additionalProperties: scalar },
      context: { type: 'object', description: 'Location, camera, speaker... attached by the route stage.' },
      updatedAt: epochMs,
      ackCode: { type: 'string', pattern: '^\\d{4,5}$', description: 'Quoted in SMS replies: ACK 4821.' },
      groupId: { type: 'string', description: 'The grouped alert it was folded into (storm control).' },
      damped: { type: 'boolean', description: 'Opened while its device was flapping: nobody was paged.' },
    },
  },
  TimelineEntry: {
    type: 'object',
    required: ['incidentId', 'at', 'kind', 'actor', 'detail'],
    properties: {
      incidentId: str,
      at: epochMs,
      kind: {
        type: 'string',
        enum: ['opened', 'acknowledged', 'cleared', 'resolved', 'escalated', 'notification', 'note'],
      },
      actor: str,
      detail: { type: 'object' },
    },
  },
  Delivery: {
    type: 'object',
    required: [
      'id',
      'incidentId',
      'step',
      'channel',
      'recipient',
      'state',
      'attempts',
      'nextAttemptAt',
      'createdAt',
    ],
    properties: {
      id: str,
      incidentId: str,
      step: int,
      channel: str,
      recipient: str,
      state: {
        type: 'string',
        enum: ['pending', 'sending', 'sent', 'delivered', 'failed', 'cancelled', 'suppressed'],
        description:
          'sent: the provider accepted it and will report the outcome; suppressed: held back by a rate limit.',
      },
      attempts: int,
      nextAttemptAt: epochMs,
      createdAt: epochMs,
      lastError: str,
      deliveredAt: epochMs,
      latencyMs: {
        type: 'number',
        description: 'Duration of the successful attempt (send, or until delivered).',
      },
      providerId: { type: 'string', examples: ['SM0123...', 'CA0123...', 'modem:2026-11-23T10:00:00+01:00'] },
      providerStatus: { type: 'string', examples: ['delivered', 'no-answer'] },
      sentVia: {
        type: 'string',
        description: 'The fallback channel that carried it (an SMS through the modem).',
      },
      failoverOf: {
        type: 'string',
        description: 'The failed delivery this one replaced on the next channel.',
      },
    },
  },
  DeviceView: {
    type: 'object',
    required: ['id', 'kind', 'name', 'zone', 'site', 'online', 'values'],
    properties: {
      id: str,
      kind: str,
      name: str,
      zone: str,
      site: str,
      online: { type: 'boolean' },
      offlineReason: { type: 'string', enum: ['status', 'silent'] },
      lastSeen: epochMs,
      battery: { type: 'number' },
      values: { type: 'object', additionalProperties: scalar },
      location: {},
      camera: {},
      speaker: {},
    },
  },
  RuleSummary: {
    type: 'object',
    required: ['id', 'name', 'severity', 'file', 'line'],
    properties: { id: str, name: str, severity: ref('Severity'), file: str, line: int },
  },
  Problem: {
    type: 'object',
    required: ['file', 'line', 'message'],
    properties: { file: str, line: int, message: str },
  },
  ValidationResult: {
    type: 'object',
    required: ['ok', 'rules', 'problems'],
    properties: {
      ok: { type: 'boolean' },
      rules: { type: 'array', items: str, description: 'Ids of the rules the file defines.' },
      problems: { type: 'array', items: ref('Problem') },
    },
  },
  TransitionRequest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      by: {
        type: 'string',
        maxLength: 64,
        description: 'Who is at the keyboard; recorded as token:<token name>/<by>.',
      },
      note: { type: 'string', maxLength: 1000 },
    },
  },
  LiveEvent: {
    type: 'object',
    required: ['type', 'at', 'data'],
    properties: { type: { type: 'string', enum: ['incident', 'notification'] }, at: epochMs, data: {} },
  },
  Readiness: {
    type: 'object',
    required: ['status', 'checks'],
    properties: {
      status: { type: 'string', enum: ['ready', 'not ready'] },
      checks: { type: 'object', additionalProperties: { type: 'boolean' } },
    },
  },
  // The provider's form posts (Twilio's parameter names). Only the fields Vigie reads are listed;
  // the provider sends more, and every one of them is covered by X-Twilio-Signature.
  TwilioInboundSms: {
    type: 'object',
    required: ['AccountSid', 'From', 'Body'],
    properties: {
      AccountSid: str,
      MessageSid: str,
      From: { type: 'string', description: 'Sender, E.164.' },
      To: str,
      Body: str,
    },
  },
  TwilioStatus: {
    type: 'object',
    required: ['AccountSid'],
    description: 'A message status (MessageSid + MessageStatus) or a call status (CallSid + CallStatus).',
    properties: {
      AccountSid: str,
      MessageSid: str,
      MessageStatus: {
        type: 'string',
        enum: ['queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'read', 'accepted'],
      },
      CallSid: str,
      CallStatus: {
        type: 'string',
        enum: [
          'queued',
          'initiated',
          'ringing',
          'in-progress',
          'completed',
          'busy',
          'no-answer',
          'canceled',
          'failed',
        ],
      },
      ErrorCode: str,
      AnsweredBy: { type: 'string', examples: ['human', 'machine_start'] },
    },
  },
  TwilioVoice: {
    type: 'object',
    required: ['AccountSid', 'CallSid'],
    properties: {
      AccountSid: str,
      CallSid: str,
      CallStatus: str,
      From: str,
      To: str,
      Digits: { type: 'string', description: 'Keys pressed (menu only).' },
    },
  },
} as const;
