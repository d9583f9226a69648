import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.ts';
import { type Harness, makeHarness, TOKENS } from './harness.ts';

// A full collection on demand, so a memory bound measures what is held, not garbage not yet collected.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;
const liveMemoryMb = (): number => {
  collect();
  const m = process.memoryUsage();
  return (m.heapUsed + m.external) / 1024 / 1024;
};

interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** A minimal SSE reader over node:http (no EventSource in Node 20), counting parsed events. */
class SseClient {
  events: SseEvent[] = [];
  status = 0;
  res?: IncomingMessage;
  private buf = '';
  closed = false;
  /** Off: keep event names and ids only, so the test's own memory does not grow with the stream. */
  keepData = true;

  constructor(port: number, query: string, headers: Record<string, string> = {}) {
    const req = httpRequest({ port, host: '127.0.0.1', path: `/api/live?${query}`, agent: false, headers });
    req.on('response', (res) => {
      this.status = res.statusCode ?? 0;
      this.res = res;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => this.feed(chunk));
      res.on('close', () => {
        this.closed = true;
      });
    });
    req.on('error', () => {
      this.closed = true;
    });
    req.end();
  }

  private feed(chunk: string): void {
    this.buf += chunk;
    let i = this.buf.indexOf('\n\n');
    while (i >= 0) {
      const block = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      const ev: SseEvent = { event: 'message', data: '' };
      let any = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':') || line.startsWith('retry:')) continue;
        const c = line.indexOf(':');
        const k = line.slice(0, c);
        const v = line.slice(c + 1).trimStart();
        if (k === 'id') ev.id = v;
        else if (k === 'event') ev.event = v;
        else if (k === 'data') ev.data += v;
        any = true;
      }
      if (!this.keepData) ev.data = '';
      if (any) this.events.push(ev);
      i = this.buf.indexOf('\n\n');
    }
  }

  of(event: string): SseEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  close(): void {
    this.res?.destroy();
  }
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

describe('GET /api/live (server-sent events)', () => {
  let h: Harness | undefined;
  const clients: SseClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await h?.http.app.close();
    h = undefined;
  });

  const start = async (http: Record<string, unknown> = {}, manualWall = false) => {
    h = await makeHarness({
      http: { rateLimitPerMin: 100_000, ...http },
      ...(manualWall ? {} : { wallClock: systemClock() }),
    });
    await h.http.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = h.http.app.server.address();
    return { h, port: typeof addr === 'object' && addr ? addr.port : 0 };
  };
  const open = (port: number, query = '', headers: Record<string, string> = {}) => {
    const c = new SseClient(port, `token=${TOKENS.viewer}&${query}`, headers);
    clients.push(c);
    return c;
  };

  it('200 concurrent clients each get every building status change, in order, with ids', async () => {
    // One test process is one user at one address: lift the per-user and per-address caps.
    const { h, port } = await start({ sse: { maxClientsPerUser: 1000, maxClientsPerAddress: 1000 } });
    const cs = Array.from({ length: 200 }, () => open(port, 'buildings=none'));
    await until(() => h.http.hub.stats().clients === 200, 10_000, '200 clients attached');
    const N = 40;
    for (let i = 0; i < N; i++)
      h.bus.emit('buildingStatus', { buildingId: `n0${(i % 4) + 1}`, state: i % 2 ? 'cold' : 'ok', ts: i });
    await until(() => cs.every((c) => c.of('building').length === N), 10_000, 'all events at all clients');
    for (const c of cs) {
      const ids = c.of('building').map((e) => Number(e.id));
      expect(ids).toEqual(Array.from({ length: N }, (_, i) => ids[0]! + i));
      expect(JSON.parse(c.of('building')[N - 1]!.data)).toMatchObject({ state: 'cold', ts: N - 1 });
    }
    expect(h.http.hub.stats().dropped).toBe(0);
  });

  it('a client that stops reading is dropped; the others get everything; buffered bytes stay bounded', async () => {
    const maxBufferedBytes = 64 * 1024;
    const { h, port } = await start({ sse: { maxBufferedBytes, replayEvents: 10 } });
    const healthy = open(port, 'buildings=none');
    healthy.keepData = false;
    // The frozen client: sends its request, then never reads a byte.
    const frozen = connect({ port, host: '127.0.0.1' }, () => {
      frozen.write(`GET /api/live?token=${TOKENS.viewer}&buildings=none HTTP/1.1\r\nHost: x\r\n\r\n`);
      frozen.pause();
    });
    await until(() => h.http.hub.stats().clients === 2, 5000, 'both attached');
    const liveBeforeMb = liveMemoryMb();
    const big = 'x'.repeat(8 * 1024);
    const total = 3000; // 24 MB of events: far beyond any socket buffer
    let maxBuffered = 0;
    for (let i = 0; i < total; i += 6) {
      for (let j = 0; j < 6; j++)
        h.bus.emit('ticketChanged', {
          ticketId: `t${i + j}`,
          status: 'proposed',
          target: 'n01',
          problem: big,
          actor: 'rules',
          ts: i + j,
        });
      maxBuffered = Math.max(maxBuffered, h.http.hub.stats().bufferedBytes);
      await until(() => healthy.of('ticket').length >= i + 6, 5000, `healthy client at ${i + 6}`);
    }
    const stats = h.http.hub.stats();
    expect(stats.dropped).toBe(1);
    expect(stats.clients).toBe(1);
    expect(healthy.of('ticket')).toHaveLength(total);
    // Bounded: never more than the limit plus one batch in flight across both clients.
    expect(maxBuffered).toBeLessThan(maxBufferedBytes + 2 * 6 * (big.length + 200));
    // What the process still holds once garbage is collected: the frozen client's unsent frames
    // would stay here (24 MB of them without the drop); RSS and the young generation also follow
    // the collector's timing, which a busy machine moves by tens of MB.
    const grownMb = liveMemoryMb() - liveBeforeMb;
    expect(grownMb).toBeLessThan(8);
    frozen.destroy();
  });

  it('resumes with Last-Event-ID from the replay buffer; too old an id gets a reset', async () => {
    const { h, port } = await start({ sse: { replayEvents: 5 } });
    const a = open(port, 'buildings=none');
    await until(() => h.http.hub.stats().clients === 1, 5000, 'attached');
    for (let i = 0; i < 3; i++) h.bus.emit('buildingStatus', { buildingId: 'n01', state: 'cold', ts: i });
    await until(() => a.of('building').length === 3, 5000, 'three events');
    const last = a.of('building')[2]!.id!;
    a.close();
    for (let i = 3; i < 6; i++) h.bus.emit('buildingStatus', { buildingId: 'n01', state: 'ok', ts: i });
    const b = open(port, 'buildings=none', { 'last-event-id': last });
    await until(() => b.of('building').length === 3, 5000, 'replayed events');
    expect(b.of('building').map((e) => JSON.parse(e.data).ts)).toEqual([3, 4, 5]);
    for (let i = 6; i < 12; i++) h.bus.emit('buildingStatus', { buildingId: 'n01', state: 'ok', ts: i });
    const c = open(port, `buildings=none&lastEventId=${last}`);
    await until(() => c.of('reset').length === 1, 5000, 'reset');
    expect(c.of('building')).toHaveLength(0);
  });

  it('readings are coalesced per sensor and pushed at most maxPushesPerS a second', async () => {
    const { h, port } = await start({ sse: { maxPushesPerS: 4 } }, true);
    const c = open(port, 'buildings=n01');
    await until(() => h.http.hub.stats().clients === 1, 5000, 'attached');
    for (let i = 0; i < 100; i++) {
      h.clock.set(h.clock.now() + 1);
      h.bus.emit('roomReadings', [h.reading('n01-6-1', 15 + i / 10), h.reading('n02-6-1', 30)]);
    }
    h.clock.advance(250);
    await until(() => c.of('readings').length === 1, 5000, 'one push');
    const pushed = JSON.parse(c.of('readings')[0]!.data).readings;
    expect(pushed).toHaveLength(1); // only the n01 sensor; n02 is filtered out
    expect(pushed[0]).toMatchObject({ sensorId: 'n01-6-1', tempC: 15 + 99 / 10 });
    // One simulated second with a reading every 10 ms: at most 4 pushes.
    for (let t = 0; t < 100; t++) {
      h.bus.emit('roomReadings', [h.reading('n01-6-1', 20)]);
      h.clock.advance(10);
    }
    // Pushes are decided on the manual clock; only their way over the socket takes wall time.
    await until(() => c.of('readings').length - 1 >= 3, 30_000, 'the throttled pushes');
    expect(c.of('readings').length - 1).toBeLessThanOrEqual(4);
    expect(c.of('readings').length - 1).toBeGreaterThanOrEqual(3);
  });

  it('?token= is accepted on /api/live only; a cookie works too; no token is 401', async () => {
    const { h, port } = await start();
    const res = await h.http.app.inject({ url: `/api/buildings?token=${TOKENS.viewer}` });
    expect(res.statusCode).toBe(401);
    const none = new SseClient(port, 'buildings=none');
    clients.push(none);
    await until(() => none.status !== 0, 5000, 'status');
    expect(none.status).toBe(401);
    const cookie = new SseClient(port, 'buildings=none', { cookie: `hw_token=${TOKENS.viewer}` });
    clients.push(cookie);
    await until(() => cookie.of('hello').length === 1, 5000, 'hello');
    expect(cookie.status).toBe(200);
  });

  it('closing the app ends open streams, so shutdown does not wait for browsers', async () => {
    const { h: local, port } = await start();
    const c = open(port, 'buildings=none');
    await until(() => local.http.hub.stats().clients === 1, 5000, 'attached');
    const t0 = Date.now();
    await local.http.app.close();
    h = undefined;
    await until(() => c.closed, 2000, 'client sees the end');
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('refuses clients beyond maxClients with 503 in the error shape', async () => {
    const { h, port } = await start({ sse: { maxClients: 2 } });
    open(port, 'buildings=none');
    open(port, 'buildings=none');
    await until(() => h.http.hub.stats().clients === 2, 5000, 'two attached');
    const third = open(port, 'buildings=none');
    await until(() => third.status !== 0, 5000, 'status');
    expect(third.status).toBe(503);
  });
});
