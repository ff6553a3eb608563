// The sign-in form: an API token (checked with GET /api/v1/me) and, optionally, the name of who is
// at the keyboard, recorded with their acknowledgements when a console token is shared.

import { ApiError } from './api.js';
import { t } from './i18n.js';
import { WHO } from './session.js';

export function showLogin({ onSubmit, message }) {
  const section = document.getElementById('login');
  const form = document.getElementById('login-form');
  const token = document.getElementById('login-token');
  const operator = document.getElementById('login-operator');
  const error = document.getElementById('login-error');
  const say = (text) => {
    error.textContent = text ?? '';
    error.hidden = !text;
  };
  say(message);
  section.hidden = false;
  document.getElementById('app').hidden = true;
  token.focus();

  form.onsubmit = async (e) => {
    e.preventDefault();
    const tok = token.value.trim();
    const name = operator.value.trim();
    if (!tok) {
      say(t('login.bad'));
      return;
    }
    if (name && !WHO.test(name)) {
      say(t('login.badName'));
      return;
    }
    say('');
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      await onSubmit(tok, name);
      token.value = '';
      section.hidden = true;
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) say(t('login.bad'));
      else say(t('login.unreachable', { error: err.message ?? String(err) }));
    } finally {
      button.disabled = false;
    }
  };
}
