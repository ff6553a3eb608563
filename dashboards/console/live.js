// The gateway's push feed (WebSocket /api/v1/stream): the board never polls. A lost connection is
// retried with growing, jittered delays (a whole control room reconnecting at once after a gateway
// restart should not arrive in one burst), and every (re)connection asks the owner to resync, since
// frames sent while we were away are gone.

const DELAYS = [500, 1000, 2000, 4000, 8000, 15000];
const OPEN_TIMEOUT_MS = 10_000;

/**
 * onState(state, info): 'connecting' | 'live' | 'reconnecting' ({ retryInMs, attempt }) | 'offline'
 * onOpen(reconnected): fetch what may have been missed
 * onFrame(frame): one parsed `{ type, at, data }`
 */
export function createLive({ url, onFrame, onOpen, onState }) {
  let ws;
  let timer;
  let attempt = 0;
  let everOpen = false;
  let stopped = false;

  function connect() {
    clearTimeout(timer);
    if (stopped) return;
    onState('connecting', { attempt });
    try {
      ws = new WebSocket(url());
    } catch {
      return retry();
    }
    // A connection that neither opens nor fails (a half-dead link, a proxy holding it) is given up.
    const socket = ws;
    const stuck = setTimeout(
      () => socket.readyState === WebSocket.CONNECTING && socket.close(),
      OPEN_TIMEOUT_MS,
    );
    ws.addEventListener('open', () => {
      clearTimeout(stuck);
      attempt = 0;
      onState('live', {});
      onOpen(everOpen);
      everOpen = true;
    });
    ws.addEventListener('message', (ev) => {
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (frame && typeof frame.type === 'string') onFrame(frame);
    });
    ws.addEventListener('close', () => {
      clearTimeout(stuck);
      if (ws !== socket) return;
      ws = undefined;
      if (!stopped) retry();
    });
  }

  function retry() {
    const base = DELAYS[Math.min(attempt, DELAYS.length - 1)];
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    attempt += 1;
    onState('reconnecting', { retryInMs: delay, attempt });
    timer = setTimeout(connect, delay);
  }

  // The browser knows before we do when the network comes back: try at once then.
  const online = () => {
    if (!ws && !stopped) connect();
  };
  window.addEventListener('online', online);

  return {
    start() {
      stopped = false;
      connect();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      window.removeEventListener('online', online);
      ws?.close(1000, 'signed out');
      ws = undefined;
      onState('offline', {});
    },
    /** Drop and reconnect now (tests, and the indicator's "retry now"). */
    reconnect() {
      if (ws) ws.close(4000, 'reconnect');
      else connect();
    },
  };
}
