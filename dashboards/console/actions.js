// Acknowledge and resolve, on a card and in the detail, as the signed-in token with the name of who
// is at the keyboard (`by`: the audit trail then reads `token:ops-console/alice`). A viewer sees the
// buttons disabled with the reason; if the gateway refuses anyway (a role changed), its answer shows.

import { h } from './dom.js';
import { t } from './i18n.js';

const CONFIRM_MS = 4000;

export function createActions({ api, store, session, toast }) {
  /** Incidents whose resolve button was tapped once: until when the second tap counts. */
  const armed = new Map();

  function showArmed(btn, id) {
    btn.textContent = t('action.confirmResolve');
    btn.classList.add('is-armed');
    setTimeout(
      () => {
        if ((armed.get(id) ?? 0) > Date.now()) return;
        btn.textContent = t('action.resolve');
        btn.classList.remove('is-armed');
      },
      (armed.get(id) ?? Date.now()) - Date.now() + 50,
    );
  }

  async function run(kind, incident, note, buttons, done) {
    for (const b of buttons) b.disabled = true;
    try {
      const updated = await api[kind](incident.id, session.operator(), note);
      store.putIncident(updated);
      done?.();
      toast(t(`action.done.${kind === 'acknowledge' ? 'acknowledged' : 'resolved'}`), 'ok');
    } catch (err) {
      const message = err && err.message ? err.message : String(err);
      toast(
        err && err.status === 403 ? t('error.refused', { message }) : t('error.failed', { message }),
        'error',
      );
    } finally {
      for (const b of buttons) if (b.isConnected && session.canAct()) b.disabled = false;
    }
  }

  /**
   * The buttons valid for the incident's state. `note()`: the text typed beside them, sent along;
   * `done()`: called once the gateway took it (the detail empties its note field).
   */
  return function actionButtons(incident, { compact = false, note, done } = {}) {
    const canAck = incident.state === 'open';
    const canResolve = incident.state !== 'resolved';
    if (!canAck && !canResolve) return null;
    const allowed = session.canAct();
    const reason = allowed ? undefined : t('role.cannot', { role: t(`role.${session.role()}`) });
    const noteText = () => {
      const text = note?.().trim();
      return text ? text : undefined;
    };
    const buttons = [];
    if (canAck) {
      buttons.push(
        h(
          'button',
          {
            type: 'button',
            class: 'btn btn-ack',
            testid: 'ack',
            disabled: !allowed,
            title: reason,
            onclick: (e) => {
              e.stopPropagation();
              void run('acknowledge', incident, noteText(), buttons, done);
            },
          },
          t('action.ack'),
        ),
      );
    }
    if (canResolve) {
      const btn = h(
        'button',
        {
          type: 'button',
          class: 'btn btn-resolve',
          testid: 'resolve',
          disabled: !allowed,
          title: reason,
          onclick: (e) => {
            e.stopPropagation();
            // Resolving closes the case for everyone: a slip of the thumb at 3 a.m. must not do it.
            if ((armed.get(incident.id) ?? 0) < Date.now()) {
              armed.set(incident.id, Date.now() + CONFIRM_MS);
              showArmed(btn, incident.id);
              return;
            }
            armed.delete(incident.id);
            void run('resolve', incident, noteText(), buttons, done);
          },
        },
        t('action.resolve'),
      );
      // A card redrawn by a live update keeps the first tap.
      if ((armed.get(incident.id) ?? 0) > Date.now()) showArmed(btn, incident.id);
      buttons.push(btn);
    }
    return h(
      'div',
      { class: ['actions', compact && 'actions-compact'], testid: 'actions' },
      h('div', { class: 'action-buttons' }, buttons),
      allowed || compact ? null : h('p', { class: 'action-reason muted', testid: 'action-reason' }, reason),
    );
  };
}
