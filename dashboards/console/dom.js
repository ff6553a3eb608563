// Every element the console draws is built here from text nodes and attributes: no HTML string ever
// carries API data (device names, messages and notes come from integrators and operators), so
// nothing they write can become markup or script.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** `h('button', { class: 'btn', onclick: fn, testid: 'ack' }, 'Acknowledge')` */
export function h(tag, props, ...children) {
  return build(document.createElement(tag), props, children);
}

export function s(tag, props, ...children) {
  return build(document.createElementNS(SVG_NS, tag), props, children);
}

function build(el, props, children) {
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class')
      el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (key === 'testid') el.dataset.testid = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's content. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * A link or image address from the API, kept only when its scheme is one we expect there: a camera
 * URL of `javascript:` must never become a clickable link.
 */
export function safeUrl(value, schemes) {
  if (typeof value !== 'string' || value.length > 2048) return undefined;
  try {
    const u = new URL(value);
    return schemes.includes(u.protocol) ? u.href : undefined;
  } catch {
    return undefined;
  }
}

export function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
