// Device kinds are an open set: the built-in ones below cover the reference scenarios, a site file
// may add more. A kind lists its fields and their types; the listen stage validates payloads
// against it, the engine and rules only ever see validated fields.

export type FieldType = 'boolean' | 'number' | 'string';

export interface FieldSpec {
  type: FieldType;
  required?: boolean;
  min?: number;
  max?: number;
  maxLength?: number;
}

export interface KindSpec {
  fields: Readonly<Record<string, FieldSpec>>;
}

export const BUILTIN_KINDS: Readonly<Record<string, KindSpec>> = {
  door: {
    fields: {
      open: { type: 'boolean', required: true },
      badge: { type: 'string', maxLength: 64 },
    },
  },
  temperature: {
    fields: {
      celsius: { type: 'number', required: true, min: -90, max: 150 },
    },
  },
  aed: {
    fields: {
      present: { type: 'boolean', required: true },
      cabinetOpen: { type: 'boolean' },
    },
  },
  appliance: {
    fields: {
      serial: { type: 'string', required: true, maxLength: 64 },
      status: { type: 'string', required: true, maxLength: 32 },
      code: { type: 'string', maxLength: 32 },
    },
  },
  button: {
    fields: {
      pressed: { type: 'boolean', required: true },
    },
  },
};

/** `incidents` is reserved: only the gateway publishes under vigie/{site}/incidents/. */
export const RESERVED_KINDS: ReadonlySet<string> = new Set(['incidents', 'gateway', 'status']);
