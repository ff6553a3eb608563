// Small line icons drawn as SVG: no icon font or emoji to depend on (a control-room PC or a kiosk
// may have neither), and they take the text colour.

import { s } from './dom.js';

const PATHS = {
  sound: 'M4 9h4l5-4v14l-5-4H4z M16 9a4 4 0 0 1 0 6 M18.5 6.5a7.5 7.5 0 0 1 0 11',
  muted: 'M4 9h4l5-4v14l-5-4H4z M16 9l5 6 M21 9l-5 6',
  mic: 'M12 3a3 3 0 0 1 3 3v5a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3z M6 11a6 6 0 0 0 12 0 M12 17v4 M8 21h8',
  battery: 'M3 8h15v8H3z M18 10.5h2.5v3H18 M5.5 10.5v3',
  play: 'M7 5l12 7-12 7z',
  door: 'M6 3h12v18H6z M14.5 12.5h.01 M6 21h12',
  temperature: 'M10 4a2 2 0 0 1 4 0v9.5a4 4 0 1 1-4 0z M12 10v7',
  aed: 'M12 20s-7-4.5-7-10a4 4 0 0 1 7-2.5A4 4 0 0 1 19 10c0 5.5-7 10-7 10z M12 9.5v5 M9.5 12h5',
  appliance: 'M5 7h11v6a5 5 0 0 1-5 5h-1a5 5 0 0 1-5-5z M16 9h2a2 2 0 0 1 0 4h-2 M4 21h14',
  sensor: 'M12 12m-3 0a3 3 0 1 0 6 0a3 3 0 1 0-6 0 M5 12a7 7 0 0 1 14 0',
};

export function icon(name, { size = 18, cls = '' } = {}) {
  return s(
    'svg',
    {
      class: ['icon', cls],
      width: size,
      height: size,
      viewBox: '0 0 24 24',
      'aria-hidden': 'true',
      focusable: 'false',
    },
    s('path', { d: PATHS[name] ?? PATHS.sensor }),
  );
}

/** The icon path alone, for drawing inside another SVG (the site plan). */
export function iconPath(name, { size = 16 } = {}) {
  const k = size / 24;
  return s('path', {
    class: 'plan-icon',
    d: PATHS[name] ?? PATHS.sensor,
    transform: `translate(${-size / 2},${-size / 2}) scale(${k})`,
  });
}
