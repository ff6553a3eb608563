import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import type { LiveEvent } from '../src/api/ports.js';
import { startApi, until, type Harness } from './api-fixture.js';

let h: Harness;
before(async () => {
  h = await startApi({ pingIntervalMs: 100 });
});
after(() => h.close());

const wsUrl = (query = '') => `${h.base.replace('http', 'ws')}/api/v1/stream${query}`;

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

function refusedWith(ws: WebSocket): Promise<number> {
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => reject(new Error('the stream accepted a client it should refuse')));
  });
}

function nextMessage(ws: WebSocket): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no frame within 2 s')), 2000);
    ws.once('message', (data) => {
      clearTimeout(t);
      resolve(JSON.parse(String(data)));
    });
  });
}

const event: LiveEvent = { type: 'incident', at: 1234, data: { id: 'inc-1', state: 'open' } };

describe('api - live stream', () => {
  it('pushes live events to a client with a token in the Authorization header', async () => {
    const ws = new WebSocket(wsUrl(), { headers: { authorization: `Bearer ${h.tokens.viewer}` } });
    await opened(ws);
    await until(() => h.ports.listeners.size === 1, 'the stream to subscribe');
    const got = nextMessage(ws);
    h.ports.emit(event);
    assert.deepEqual(await got, event);
    ws.close();
    await until(() => h.ports.listeners.size === 0, 'the stream to unsubscribe on close');
  });

  it('accepts the token as ?token= for browsers', async () => {
    const ws = new WebSocket(wsUrl(`?token=${h.tokens.viewer}`));
    await opened(ws);
    await until(() => h.ports.listeners.size === 1, 'the stream to subscribe');
    const got = nextMessage(ws);
    h.ports.emit(event);
    assert.deepEqual(await got, event);
    ws.close();
    await until(() => h.ports.listeners.size === 0, 'the stream to unsubscribe');
  });

  it('refuses a client without a token, or with a bad one, with 401', async () => {
    assert.equal(await refusedWith(new WebSocket(wsUrl())), 401);
    assert.equal(await refusedWith(new WebSocket(wsUrl('?token=wrong'))), 401);
    assert.equal(h.ports.listeners.size, 0);
  });

  it('answers a plain GET with 426 and an upgrade to another path with 404', async () => {
    const plain = await fetch(`${h.base}/api/v1/stream`, {
      headers: { authorization: `Bearer ${h.tokens.viewer}` },
    });
    assert.equal(plain.status, 426);
    assert.equal(plain.headers.get('upgrade'), 'websocket');
    const elsewhere = new WebSocket(`${h.base.replace('http', 'ws')}/api/v1/incidents`, {
      headers: { authorization: `Bearer ${h.tokens.viewer}` },
    });
    assert.equal(await refusedWith(elsewhere), 404);
  });

  it('keeps a client that answers pings alive across several ping periods', async () => {
    const ws = new WebSocket(wsUrl(), { headers: { authorization: `Bearer ${h.tokens.viewer}` } });
    await opened(ws);
    let pings = 0;
    ws.on('ping', () => pings++);
    await until(() => pings >= 3, 'three pings', 3000);
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close();
    await until(() => h.ports.listeners.size === 0, 'the stream to unsubscribe');
  });

  it('drops a client that stops answering pings', async () => {
    // autoPong off: this client never answers, like a peer whose network vanished.
    const ws = new WebSocket(wsUrl(), {
      headers: { authorization: `Bearer ${h.tokens.viewer}` },
      autoPong: false,
    });
    await opened(ws);
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    await until(() => h.api.stream.clientCount() === 0, 'the silent client to be dropped', 3000);
    await closed;
  });

  it('closes subscribers when the server closes', async () => {
    const other = await startApi();
    const ws = new WebSocket(`${other.base.replace('http', 'ws')}/api/v1/stream`, {
      headers: { authorization: `Bearer ${other.tokens.viewer}` },
    });
    await opened(ws);
    const code = new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));
    await other.close();
    assert.equal(await code, 1001);
    assert.equal(other.ports.listeners.size, 0);
  });
});
