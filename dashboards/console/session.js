// Who is signed in. The token lives in sessionStorage: it goes when the tab closes, and another
// site on the same machine never sees it. The language choice outlives the session.

const KEY = 'vigie.console.session';
const LANG_KEY = 'vigie.console.language';
const MUTE_KEY = 'vigie.console.muted';

/** The name of who is at the keyboard, as the API accepts it in `by`. */
export const WHO = /^[\p{L}\p{N} ._@+'-]{1,64}$/u;

export function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
    return s && typeof s.token === 'string' ? { token: s.token, operator: s.operator ?? '' } : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(token, operator) {
  sessionStorage.setItem(KEY, JSON.stringify({ token, operator }));
}

export function clearSession() {
  sessionStorage.removeItem(KEY);
}

export function savedLanguage() {
  return localStorage.getItem(LANG_KEY) ?? undefined;
}

export function saveLanguage(lang) {
  localStorage.setItem(LANG_KEY, lang);
}

export function savedMute() {
  return sessionStorage.getItem(MUTE_KEY) === '1';
}

export function saveMute(muted) {
  sessionStorage.setItem(MUTE_KEY, muted ? '1' : '0');
}
