import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../src/core/clock.ts';
import { type Harness, makeHarness, TOKENS } from './harness.ts';
import { isErrorShape, rawRequest } from './raw.ts';

/**
 * The HTTP edge against hostile or broken clients (issue #13 items 4–12). Each case here failed on
 * the edge before the hardening.
 */

const MANUAL = {
  buildingId: 'n01',
  floor: 6,
  column: 1,
  ts: '2026-01-15T07:30:00Z',
  rooms: [{ room: 'living room', tempC: 17.2 }],
  measuredBy: ['Li Wei', 'Zhang Min'],
};

const auth = (t: string) => ({ authorization: `Bearer ${t}` });

function expectSecurityHeaders(headers: Record<string, unknown>, what: string): void {
  expect(headers['content-security-policy'], what).toContain("frame-ancestors 'none'");
  expect(headers['x-content-type-options'], what).toBe('nosniff');
  expect(headers['x-frame-options'], what).toBe('DENY');
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('HTTP hardening (inject)', () => {
  let h: Harness;
  afterEach(async () => h?.http.app.close());

  const fresh = async (http: Record<string, unknown> = {}) => {
    h = await makeHarness({ http: { rateLimitPerMin: 100_000, loginAttemptsPerMin: 1000, ...http } });
    await h.http.app.ready();
    return h;
  };
  const auditRows = (action?: string) =>
    h.db
      .prepare(
        `SELECT actor, action, outcome, status FROM http_audit ${action ? 'WHERE action = ?' : ''} ORDER BY id`,
      )
      .all(...(action ? [action] : [])) as Array<{
      actor: string;
      action: string;
      outcome: string;
      status: number;
    }>;

  it('#4 a malformed hw_token cookie is a failed login (401), not a 500', async () => {
    await fresh();
    for (const cookie of ['hw_token=%', 'hw_token=%E0%A4%A', 'hw_token="; hw_token=%zz']) {
      const res = await h.http.app.inject({ url: '/api/live?buildings=none', headers: { cookie } });
      expect(res.statusCode, cookie).toBe(401);
      expect(isErrorShape(res.json()), cookie).toBe(true);
    }
    expect(auditRows('login.failed').length).toBe(3);
  });

  it('#5 the cookie authenticates /api/live only; a cross-site text/plain form post reaches no write route', async () => {
    await fresh();
    const cookie = `hw_token=${TOKENS.engineer}`;
    const forged = await h.http.app.inject({
      method: 'POST',
      url: '/api/rules/dry-run',
      headers: { cookie, 'content-type': 'text/plain', origin: 'https://evil.example' },
      payload: 'a=b',
    });
    expect(forged.statusCode).toBe(401);
    const read = await h.http.app.inject({ url: '/api/me', headers: { cookie } });
    expect(read.statusCode).toBe(401);
    // Even with a bearer token, a write takes JSON only (a form cannot send it cross-site without CORS).
    const plain = await h.http.app.inject({
      method: 'POST',
      url: '/api/rules/dry-run',
      headers: { ...auth(TOKENS.engineer), 'content-type': 'text/plain' },
      payload: 'a=b',
    });
    expect(plain.statusCode).toBe(415);
    expect(plain.json().code).toBe('HW_ERR_UNSUPPORTED_MEDIA_TYPE');
    const ok = await h.http.app.inject({
      method: 'POST',
      url: '/api/rules/dry-run',
      headers: auth(TOKENS.engineer),
    });
    expect(ok.statusCode).toBe(200);
  });

  it('#6 a manual measurement needs two distinct people (trimmed, spaces collapsed, case-folded, NFKC)', async () => {
    await fresh();
    for (const measuredBy of [
      ['A', 'A'],
      ['A', ' a '],
      ['Anna  Berg', 'anna berg'],
      ['ＡＮＮＡ', 'anna'],
      ['Strauß', 'STRAUSS'],
      ['Li Wei', 'li\u00a0wei', 'Zhang Min'],
    ]) {
      const res = await h.http.app.inject({
        method: 'POST',
        url: '/api/readings/manual',
        headers: auth(TOKENS.operator),
        payload: { ...MANUAL, measuredBy },
      });
      expect(res.statusCode, JSON.stringify(measuredBy)).toBe(400);
      expect(res.json().field).toBe('body.measuredBy');
    }
    const ok = await h.http.app.inject({
      method: 'POST',
      url: '/api/readings/manual',
      headers: auth(TOKENS.operator),
      payload: MANUAL,
    });
    expect(ok.statusCode).toBe(200);
  });

  it('#7 router-level errors (param too long, bad percent-encoding) answer in the error shape with the security headers', async () => {
    await fresh();
    for (const url of [`/api/tickets/${'x'.repeat(300)}`, '/api/tickets/%E0%A4%A', '/api/buildings/%']) {
      const res = await h.http.app.inject({ url, headers: auth(TOKENS.viewer) });
      expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, url).toBeLessThan(500);
      expect(isErrorShape(res.json()), `${url}: ${res.body}`).toBe(true);
      expectSecurityHeaders(res.headers, url);
    }
  });

  it('#8 time ranges and bucket widths are bounded', async () => {
    // Default bounds: the harness's heating clock stands at 2026-01-15.
    await fresh();
    const v = auth(TOKENS.viewer);
    for (const [url, field] of [
      ['/api/buildings/n01/history?to=1e20', 'query.to'],
      ['/api/buildings/n01/history?to=100000000000000000000', 'query.to'],
      ['/api/buildings/n01/history?every=99999999999999999999d', 'query.every'],
      ['/api/buildings/n01/history?every=40d', 'query.every'],
      ['/api/buildings/n01/history?from=2024-01-01T00:00:00Z&every=7d', 'query.from'],
      ['/api/substations/ss-north/history?from=-5', 'query.from'],
      ['/api/compliance?to=-1', 'query.to'],
      ['/api/compliance?to=2030-01-01T00:00:00Z', 'query.to'],
    ] as const) {
      const res = await h.http.app.inject({ url, headers: v });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().field, `${url}: ${res.body}`).toBe(field);
    }
    const ok = await h.http.app.inject({
      url: '/api/buildings/n01/history?every=1d&from=2025-06-01',
      headers: v,
    });
    expect(ok.statusCode).toBe(200);
    await h.http.app.close();
    // The bounds are configuration.
    await fresh({ historyMaxRangeDays: 30, historyMaxEveryDays: 2 });
    for (const url of ['/api/buildings/n01/history?every=3d', '/api/buildings/n01/history?from=2025-12-01']) {
      expect((await h.http.app.inject({ url, headers: v })).statusCode, url).toBe(400);
    }
  });

  it('#9 token expiry is judged on the wall clock, not the accelerated heating clock', async () => {
    // Heating time has run past the token's expiry (2025-01-01); the wall has not.
    const wall = new ManualClock(Date.UTC(2024, 11, 31, 22, 0, 0));
    h = await makeHarness({ wallClock: wall });
    const get = () => h.http.app.inject({ url: '/api/me', headers: auth(TOKENS.expired) });
    expect((await get()).statusCode).toBe(200);
    wall.advance(2 * 3_600_000);
    expect((await get()).statusCode).toBe(401);
  });

  it('#11 HEAD /api/live answers at once (headers of the stream, no body)', async () => {
    await fresh();
    const res = await Promise.race([
      h.http.app.inject({ method: 'HEAD', url: `/api/live?token=${TOKENS.viewer}` }),
      new Promise<'hang'>((r) => setTimeout(() => r('hang'), 3000)),
    ]);
    expect(res).not.toBe('hang');
    if (res === 'hang') return;
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/event-stream');
    expect(res.body).toBe('');
    expect(h.http.hub.stats().clients).toBe(0);
  });

  it('#12 refused writes (401, 403, 413, 415) and 500s leave audit rows', async () => {
    await fresh({ bodyLimitBytes: 1024 });
    h.tickets.add('t-1', 'n01', 'ss-north');
    const post = (headers: Record<string, string>, payload?: string) =>
      h.http.app.inject({ method: 'POST', url: '/api/tickets/t-1/approve', headers, payload });
    expect((await post({})).statusCode).toBe(401);
    expect((await post(auth(TOKENS.viewer))).statusCode).toBe(403);
    expect(
      (await post({ ...auth(TOKENS.operator), 'content-type': 'application/json' }, `"${'x'.repeat(4000)}"`))
        .statusCode,
    ).toBe(413);
    expect((await post({ ...auth(TOKENS.operator), 'content-type': 'text/xml' }, '<a/>')).statusCode).toBe(
      415,
    );
    const rows = auditRows('ticket.action');
    expect(rows.map((r) => [r.status, r.outcome])).toEqual([
      [401, 'refused'],
      [403, 'refused'],
      [413, 'refused'],
      [415, 'refused'],
    ]);
    expect(rows[1]!.actor).toBe('vera');
    h.tickets.list = async () => {
      throw new Error('boom');
    };
    expect((await h.http.app.inject({ url: '/api/tickets', headers: auth(TOKENS.viewer) })).statusCode).toBe(
      500,
    );
    expect(auditRows().at(-1)).toMatchObject({ actor: 'vera', outcome: 'failed', status: 500 });
  });
});

describe('HTTP hardening (real sockets)', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.http.app.close();
    h = undefined;
  });
  const listen = async (http: Record<string, unknown> = {}) => {
    h = await makeHarness({
      http: { rateLimitPerMin: 100_000, loginAttemptsPerMin: 1000, ...http },
      wallClock: systemClock(),
    });
    await h.http.app.listen({ port: 0, host: '127.0.0.1' });
    const a = h.http.app.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  };

  it('#7 a bad Content-Length and headers over the limit answer in the error shape with the security headers', async () => {
    const port = await listen();
    const cases = [
      ['bad content-length', 'POST /api/readings/manual HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'],
      [
        'two content-lengths',
        'POST /api/readings/manual HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
      ],
      ['headers too large', `GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
      ['not HTTP', 'HELLO\r\n\r\n'],
    ] as const;
    for (const [what, req] of cases) {
      const res = await rawRequest(port, [req], { waitMs: 5000 });
      expect(res.status, what).toBeGreaterThanOrEqual(400);
      expect(res.status, what).toBeLessThan(500);
      expect(isErrorShape(JSON.parse(res.body || 'null')), `${what}: ${res.body}`).toBe(true);
      expectSecurityHeaders(res.headers, what);
      expect(res.closed, what).toBe(true);
    }
  });

  it('#10 a client that never finishes its headers, or its body, is answered 408 and disconnected', async () => {
    const port = await listen({ headersTimeoutMs: 400, requestTimeoutMs: 800, timeoutCheckIntervalMs: 100 });
    const slowHeaders = rawRequest(port, ['GET /api/health HTTP/1.1\r\n', 'Host: x\r\n'], {
      waitMs: 10_000,
      gapMs: 50,
    });
    const slowBody = rawRequest(
      port,
      [
        `POST /api/readings/manual HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKENS.operator}\r\n` +
          'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"buildingId":',
      ],
      { waitMs: 10_000 },
    );
    for (const [what, res] of [
      ['headers', await slowHeaders],
      ['body', await slowBody],
    ] as const) {
      expect(res.closed, what).toBe(true);
      expect(res.status, what).toBe(408);
      expect(isErrorShape(JSON.parse(res.body)), what).toBe(true);
      expectSecurityHeaders(res.headers, what);
      expect(res.ms, what).toBeLessThan(8000);
    }
    // The server still serves others.
    const ok = await rawRequest(port, ['GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    expect(ok.status).toBe(200);
  });

  it('#11 live-stream slots are capped per user and per address', async () => {
    const port = await listen({ sse: { maxClientsPerUser: 2, maxClientsPerAddress: 3 } });
    const statuses: number[] = [];
    const open = (token: string) =>
      new Promise<number>((resolve) => {
        const req = httpRequest({
          port,
          host: '127.0.0.1',
          path: `/api/live?buildings=none&token=${token}`,
          agent: false,
        });
        req.on('response', (res) => {
          statuses.push(res.statusCode ?? 0);
          if (res.statusCode !== 200) res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', () => resolve(-1));
        req.end();
      });
    expect(await open(TOKENS.viewer)).toBe(200);
    expect(await open(TOKENS.viewer)).toBe(200);
    expect(await open(TOKENS.viewer)).toBe(429);
    expect(await open(TOKENS.operator)).toBe(200);
    expect(await open(TOKENS.engineer)).toBe(429);
    expect(h!.http.hub.stats().clients).toBe(3);
  });

  it('#11 a live client that never reads is dropped after the write timeout, long before its buffer limit', async () => {
    const port = await listen({ sse: { writeTimeoutMs: 300, maxBufferedBytes: 64 * 1024 * 1024 } });
    // Sends the request and then never reads a byte.
    const stuck = connect({ port, host: '127.0.0.1' });
    stuck.pause();
    stuck.write(`GET /api/live?buildings=none&token=${TOKENS.viewer} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await until(() => h!.http.hub.stats().clients === 1, 5000, 'attached');
    const big = 'x'.repeat(64 * 1024);
    // Enough to fill the kernel's socket buffers on both ends, far below maxBufferedBytes.
    for (let i = 0; i < 200 && h!.http.hub.stats().clients === 1; i++) {
      h!.http.hub.publish('alert', { key: 'big', severity: 'warning', message: big, active: true, ts: 0 });
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => h!.http.hub.stats().clients === 0, 10_000, 'stuck client dropped');
    expect(h!.http.hub.stats().bufferedBytes).toBe(0);
    stuck.destroy();
  });
});
