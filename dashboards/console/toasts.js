// Short messages in a corner: what an action did, or why the gateway refused it.

import { h } from './dom.js';

export function toast(text, tone = 'info') {
  const el = h(
    'div',
    {
      class: ['toast', `toast-${tone}`],
      role: tone === 'error' ? 'alert' : 'status',
      testid: 'toast',
      dataset: { tone },
    },
    text,
  );
  document.getElementById('toasts').append(el);
  setTimeout(() => el.remove(), tone === 'error' ? 10_000 : 5000);
}
