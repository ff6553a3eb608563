// One way to write an instant wherever people type one (API query parameters, bodies, the CLI):
// epoch milliseconds, or an ISO 8601 date-time WITH its zone. A zoneless date-time is refused
// rather than guessed: the machine's zone, the site's and the reader's need not be the same.

export const INSTANT_HINT = 'epoch milliseconds or an ISO 8601 date-time with a zone (2026-11-23T18:00:00Z)';

export function parseInstant(raw: string): number | undefined {
  const s = raw.trim();
  if (/^\d+$/.test(s)) return Number(s);
  if (/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/.test(s)) {
    const t = Date.parse(s);
    if (!Number.isNaN(t)) return t;
  }
  return undefined;
}
