// Where the console is, kept in the URL hash (`#/board?zone=hall-b&severity=critical&incident=inc_1`)
// so a filtered board can be bookmarked, shared, and survives a reload.

export const VIEWS = ['board', 'devices', 'plan', 'kpis', 'workbench'];

export function currentRoute() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?', 2);
  const view = VIEWS.includes(path) ? path : 'board';
  return { view, params: new URLSearchParams(query) };
}

export function href(view, params = {}) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    p.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const q = p.toString();
  return `#/${view}${q ? `?${q}` : ''}`;
}

export function go(view, params) {
  const next = href(view, params);
  if (location.hash !== next) location.hash = next;
}

/** Changes some parameters of the current view, keeping the others. */
export function patch(changes) {
  const { view, params } = currentRoute();
  const merged = Object.fromEntries(params);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) delete merged[k];
    else merged[k] = Array.isArray(v) ? v.join(',') : String(v);
  }
  go(view, merged);
}

export function listParam(params, key, allowed) {
  const v = params.get(key);
  if (!v) return [];
  return v.split(',').filter((x) => !allowed || allowed.includes(x));
}

export function onRoute(fn) {
  window.addEventListener('hashchange', () => fn(currentRoute()));
}
