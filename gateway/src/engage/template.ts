// A tiny `{a.b}` replacer for rule messages. It never throws: a placeholder it cannot fill is left
// as written, so a typo shows up in the message instead of losing the alert.

const PLACEHOLDER = /\{([A-Za-z_][\w-]*(?:\.[\w-]+)*)\}/g;

export function renderTemplate(template: string, vars: Readonly<Record<string, unknown>>): string {
  return template.replace(PLACEHOLDER, (whole, path: string) => {
    let cur: unknown = vars;
    for (const part of path.split('.')) {
      if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, part)) return whole;
      cur = (cur as Record<string, unknown>)[part];
    }
    return show(cur) ?? whole;
  });
}

function show(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (v === null) return 'null';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // Locations read better by their label than as JSON.
    if (typeof o.label === 'string') return o.label;
    try {
      return JSON.stringify(v);
    } catch {
      return undefined;
    }
  }
  return undefined;
}
