// `{device.name}`-style placeholders for rule messages. Never throws: a placeholder it cannot fill
// stays as written, so a typo shows in the message instead of losing the alert.

const PLACEHOLDER = /\{([A-Za-z_][\w-]*(?:\.[\w-]+)*)\}/g;

export function renderTemplate(template: string, vars: Record<string, unknown>): string {
  return template.replace(PLACEHOLDER, (whole: string, path: string) => {
    let cur: unknown = vars;
    for (const part of path.split('.')) {
      if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, part))
        return whole;
      cur = (cur as Record<string, unknown>)[part];
    }
    return show(cur) ?? whole;
  });
}

function show(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (v === null) return 'null';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // A location reads better by its label than as JSON.
    if (typeof o.label === 'string') return o.label;
    try {
      return JSON.stringify(v);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Placeholders a template uses (`device.name`, ...): lets a validator warn about typos. */
export function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]);
}
