import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/http/auth.ts';
import { type Harness, makeHarness, TOKENS, USERS } from './harness.ts';

/** A request for each route of the table, with inputs that succeed for a permitted role. */
const SAMPLES: Record<string, { url: string; body?: unknown }> = {
  'GET /api/health': { url: '/api/health' },
  'GET /metrics': { url: '/metrics' },
  'GET /api/me': { url: '/api/me' },
  'GET /api/buildings': { url: '/api/buildings' },
  'GET /api/buildings/:id': { url: '/api/buildings/n01' },
  'GET /api/buildings/:id/history': { url: '/api/buildings/n01/history?every=1h' },
  'GET /api/substations': { url: '/api/substations' },
  'GET /api/substations/:id': { url: '/api/substations/ss-north' },
  'GET /api/substations/:id/history': { url: '/api/substations/ss-north/history?from=2026-01-14T00:00:00Z' },
  'GET /api/weather': { url: '/api/weather' },
  'GET /api/tickets': { url: '/api/tickets?status=proposed' },
  'GET /api/tickets/:id': { url: '/api/tickets/t-read' },
  'POST /api/tickets/:id/:action': { url: '/api/tickets/__fresh__/approve', body: { note: 'ok' } },
  'POST /api/readings/manual': {
    url: '/api/readings/manual',
    body: {
      buildingId: 'n01',
      floor: 6,
      column: 1,
      ts: '2026-01-15T07:30:00Z',
      rooms: [
        { room: 'living room', tempC: 17.2 },
        { room: 'bedroom', tempC: 16.8 },
      ],
      measuredBy: ['Li Wei', 'Zhang Min'],
    },
  },
  'GET /api/compliance': { url: '/api/compliance?from=2026-01-14T00:00:00Z' },
  'GET /api/compliance.csv': { url: '/api/compliance.csv?from=2026-01-14T00:00:00Z' },
  'GET /api/audit': { url: '/api/audit?limit=5' },
  'GET /api/config': { url: '/api/config' },
  'POST /api/rules/dry-run': { url: '/api/rules/dry-run' },
};

const ROLES = ['viewer', 'operator', 'engineer'] as const;
const RANK = { public: -1, field: -1, viewer: 0, operator: 1, engineer: 2 } as const;

describe('HTTP API through inject', () => {
  let h: Harness;
  let n = 0;
  beforeAll(async () => {
    h = await makeHarness({ http: { loginAttemptsPerMin: 1000, rateLimitPerMin: 100_000 } });
    await h.http.app.ready();
    h.tickets.add('t-read', 'n01', 'ss-north');
  });
  afterAll(async () => h.http.app.close());

  const call = (key: string, token?: string, headers: Record<string, string> = {}) => {
    const s = SAMPLES[key]!;
    const [method] = key.split(' ') as ['GET' | 'POST'];
    let url = s.url;
    if (url.includes('__fresh__')) {
      const id = `t-${++n}`;
      h.tickets.add(id, 'n02', 'ss-north');
      url = url.replace('__fresh__', id);
    }
    return h.http.app.inject({
      method,
      url,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      ...(s.body !== undefined ? { payload: s.body as object } : {}),
    });
  };

  it('has a sample for every route of the table except the live stream (tested over a socket)', () => {
    const keys = h.http.routes.map((r) => `${r.method} ${r.url}`).filter((k) => k !== 'GET /api/live');
    expect(keys.sort()).toEqual(Object.keys(SAMPLES).sort());
  });

  it('every route: 401 without a token, with a wrong one and an expired one; 403 below its role; 2xx at or above', async () => {
    for (const r of h.http.routes) {
      const key = `${r.method} ${r.url}`;
      if (key === 'GET /api/live') continue;
      if (r.access === 'public') {
        expect((await call(key)).statusCode, key).toBe(200);
        continue;
      }
      for (const bad of [undefined, 'nope-not-a-token', TOKENS.expired]) {
        const res = await call(key, bad);
        expect(res.statusCode, `${key} token=${bad}`).toBe(401);
        expect(res.json()).toMatchObject({ statusCode: 401, code: 'HW_ERR_UNAUTHORIZED' });
      }
      for (const role of ROLES) {
        const res = await call(key, TOKENS[role]);
        if (RANK[role] < RANK[r.access]) {
          expect(res.statusCode, `${key} as ${role}`).toBe(403);
          expect(res.json()).toMatchObject({ statusCode: 403, code: 'HW_ERR_FORBIDDEN' });
        } else {
          expect(res.statusCode, `${key} as ${role}: ${res.body.slice(0, 300)}`).toBe(200);
        }
      }
    }
  });

  it('an expired token says so', async () => {
    const res = await call('GET /api/me', TOKENS.expired);
    expect(res.json().message).toMatch(/expired/);
  });

  it('security headers on API and dashboard responses', async () => {
    for (const url of ['/api/health', '/', '/api/nope']) {
      const res = await h.http.app.inject({ url });
      expect(res.headers['content-security-policy'], url).toContain("frame-ancestors 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
    }
  });

  it('validation errors name the field, in the one error shape', async () => {
    const op = { authorization: `Bearer ${TOKENS.operator}` };
    const cases: Array<{
      method: 'GET' | 'POST';
      url: string;
      payload?: unknown;
      field: string;
      status?: number;
    }> = [
      { method: 'GET', url: '/api/buildings/n01/history?every=5x', field: 'query.every' },
      { method: 'GET', url: '/api/buildings/n01/history?from=yesterday', field: 'query.from' },
      { method: 'GET', url: '/api/buildings/n01/history?every=1s&from=2026-01-01', field: 'query.every' },
      { method: 'GET', url: '/api/buildings/n01/history?bogus=1', field: 'query' },
      { method: 'GET', url: '/api/tickets?status=DROP%20TABLE', field: 'query.status' },
      { method: 'POST', url: '/api/tickets/t-read/explode', payload: {}, field: 'params.action' },
      {
        method: 'POST',
        url: '/api/tickets/t-read/approve',
        payload: { note: 'x'.repeat(3000) },
        field: 'body.note',
      },
      { method: 'POST', url: '/api/readings/manual', payload: { buildingId: 'n01' }, field: 'body.floor' },
      {
        method: 'POST',
        url: '/api/readings/manual',
        payload: { ...(SAMPLES['POST /api/readings/manual']!.body as object), measuredBy: ['only one'] },
        field: 'body.measuredBy',
      },
      {
        method: 'POST',
        url: '/api/readings/manual',
        payload: { ...(SAMPLES['POST /api/readings/manual']!.body as object), column: 2, floor: 6 },
        field: 'body.column',
      },
      {
        method: 'POST',
        url: '/api/readings/manual',
        payload: {
          ...(SAMPLES['POST /api/readings/manual']!.body as object),
          rooms: [{ room: 'kitchen', tempC: 99 }],
        },
        field: 'body.rooms.0.tempC',
      },
      { method: 'GET', url: '/api/audit?limit=-4', field: 'query.limit' },
    ];
    for (const c of cases) {
      const res = await h.http.app.inject({
        method: c.method,
        url: c.url,
        headers: {
          authorization: `Bearer ${c.url.startsWith('/api/audit') ? TOKENS.engineer : TOKENS.operator}`,
        },
        ...(c.payload !== undefined ? { payload: c.payload as object } : {}),
      });
      expect(res.statusCode, c.url).toBe(c.status ?? 400);
      const body = res.json();
      expect(Object.keys(body).sort(), c.url).toEqual(['code', 'field', 'message', 'statusCode']);
      expect(body.field, `${c.url}: ${body.message}`).toBe(c.field);
      expect(body.code).toBe('HW_ERR_BAD_REQUEST');
    }
    const broken = await h.http.app.inject({
      method: 'POST',
      url: '/api/readings/manual',
      headers: { ...op, 'content-type': 'application/json' },
      payload: '{"buildingId": ',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json()).toMatchObject({ statusCode: 400, code: 'HW_ERR_BAD_REQUEST', field: 'body' });
  });

  it('unknown ids are 404 and a refused transition is 409, same shape', async () => {
    const v = { authorization: `Bearer ${TOKENS.operator}` };
    for (const url of [
      '/api/buildings/zz',
      '/api/substations/zz',
      '/api/tickets/zz',
      '/api/buildings/zz/history',
    ]) {
      const res = await h.http.app.inject({ url, headers: v });
      expect(res.statusCode, url).toBe(404);
      expect(res.json()).toMatchObject({ statusCode: 404, code: 'HW_ERR_NOT_FOUND', field: 'params.id' });
    }
    h.tickets.add('t-conflict', 'n03', 'ss-north');
    const res = await h.http.app.inject({
      method: 'POST',
      url: '/api/tickets/t-conflict/close',
      headers: v,
      payload: {},
    });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ statusCode: 409, code: 'HW_ERR_CONFLICT' });
    const none = await h.http.app.inject({ url: '/api/no/such/route', headers: v });
    expect(none.json()).toMatchObject({ statusCode: 404, code: 'HW_ERR_NOT_FOUND' });
  });

  it('5xx hides details; a store outage is a 503 with an actionable message', async () => {
    const v = { authorization: `Bearer ${TOKENS.viewer}` };
    h.history.down = true;
    try {
      const res = await h.http.app.inject({ url: '/api/buildings/n01/history', headers: v });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'HW_ERR_STORE_UNAVAILABLE' });
      expect(res.body).not.toContain('ECONNREFUSED');
    } finally {
      h.history.down = false;
    }
    const orig = h.tickets.list.bind(h.tickets);
    h.tickets.list = async () => {
      throw new Error('SQLITE_CORRUPT: secret path /var/lib/x');
    };
    try {
      const res = await h.http.app.inject({ url: '/api/tickets', headers: v });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toMatchObject({ statusCode: 500, code: 'HW_ERR_INTERNAL' });
      expect(res.body).not.toContain('SQLITE');
    } finally {
      h.tickets.list = orig;
    }
  });

  it('a building view carries units, classes and live temperatures', async () => {
    h.live.applyRoom([h.reading('n01-6-1', 16.9), h.reading('n01-3-2', 20.8)]);
    const res = await h.http.app.inject({
      url: '/api/buildings/n01',
      headers: { authorization: `Bearer ${TOKENS.viewer}` },
    });
    const b = res.json();
    expect(b.units).toHaveLength(8);
    const corner = b.units.find((u: { sensorId: string }) => u.sensorId === 'n01-6-1');
    expect(corner).toMatchObject({ tempC: 16.9, fresh: true, classes: ['top', 'gable'] });
    expect(b.classes.middle.meanC).toBeCloseTo(20.8);
    expect(b.openTickets).toBeGreaterThanOrEqual(1);
  });

  it('ticket actions audit who did what; the audit log refuses updates and deletes', async () => {
    h.tickets.add('t-audit', 'n04', 'ss-north');
    const op = { authorization: `Bearer ${TOKENS.operator}` };
    await h.http.app.inject({
      method: 'POST',
      url: '/api/tickets/t-audit/approve',
      headers: op,
      payload: {},
    });
    await h.http.app.inject({ method: 'POST', url: '/api/tickets/t-audit/close', headers: op, payload: {} });
    const rows = h.db
      .prepare(
        "SELECT actor, action, target, outcome, status FROM http_audit WHERE target = 't-audit' ORDER BY id",
      )
      .all();
    expect(rows).toEqual([
      { actor: 'otto', action: 'ticket.action', target: 't-audit', outcome: 'ok', status: 200 },
      { actor: 'otto', action: 'ticket.action', target: 't-audit', outcome: 'refused', status: 409 },
    ]);
    expect(() => h.db.prepare("UPDATE http_audit SET actor = 'x'").run()).toThrow(/append-only/);
    expect(() => h.db.prepare('DELETE FROM http_audit').run()).toThrow(/append-only/);
    const failed = h.db
      .prepare("SELECT COUNT(*) AS n FROM http_audit WHERE action = 'login.failed'")
      .get() as { n: number };
    expect(failed.n).toBeGreaterThan(0);
  });

  it('manual measurement: mean of the rooms, attached to the unit, source manual', async () => {
    const res = await call('POST /api/readings/manual', TOKENS.operator);
    expect(res.json()).toEqual({ sensorId: 'n01-6-1', tempC: 17, ts: Date.parse('2026-01-15T07:30:00Z') });
    expect(h.manual.received.at(-1)).toMatchObject({
      source: 'manual',
      tempC: 17,
      classes: ['top', 'gable'],
    });
  });

  it('compliance CSV has a header and one row per building, formula-safe', async () => {
    const res = await call('GET /api/compliance.csv', TOKENS.viewer);
    expect(res.headers['content-type']).toContain('text/csv');
    const lines = res.body.trim().split('\r\n');
    expect(lines[0]).toBe('building,name,substation,unit_hours,in_band_share,below_share,above_share,mean_c');
    expect(lines).toHaveLength(1 + 16);
  });

  it('OpenAPI document lists every route with its role; it and Swagger UI need no token', async () => {
    const res = await h.http.app.inject({ url: '/api/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(Object.keys(doc.paths).length).toBe(new Set(h.http.routes.map((r) => r.url)).size);
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/api/tickets/{id}/{action}');
    expect(doc.paths['/api/tickets/{id}/{action}'].post['x-heatwatch-role']).toBe('operator');
    expect(doc.paths['/api/health'].get.security).toEqual([]);
    expect(
      doc.paths['/api/readings/manual'].post.requestBody.content['application/json'].schema.required,
    ).toContain('measuredBy');
    const ui = await h.http.app.inject({ url: '/api/docs' });
    const page = ui.statusCode === 302 ? await h.http.app.inject({ url: ui.headers.location as string }) : ui;
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('swagger-ui');
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });
});

describe('login throttling, rate limit, first-start token', () => {
  it('after loginAttemptsPerMin failures an address gets 429, even with a good token, until the minute ends', async () => {
    const h = await makeHarness({ http: { loginAttemptsPerMin: 3, rateLimitPerMin: 1000 } });
    const get = (t: string) =>
      h.http.app.inject({ url: '/api/me', headers: { authorization: `Bearer ${t}` } });
    for (let i = 0; i < 3; i++) expect((await get(`wrong-${i}`)).statusCode).toBe(401);
    const blocked = await get(TOKENS.viewer);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().code).toBe('HW_ERR_RATE_LIMITED');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    h.clock.advance(60_000);
    expect((await get(TOKENS.viewer)).statusCode).toBe(200);
    await h.http.app.close();
  });

  it('rateLimitPerMin per address', async () => {
    const h = await makeHarness({ http: { rateLimitPerMin: 5 } });
    const codes = [];
    for (let i = 0; i < 7; i++) codes.push((await h.http.app.inject({ url: '/api/health' })).statusCode);
    expect(codes).toEqual([200, 200, 200, 200, 200, 429, 429]);
    await h.http.app.close();
  });

  it('no users and no admin token: one admin token is created, announced once, and only its hash kept', async () => {
    const h = await makeHarness({ users: { users: [] } });
    expect(h.announced).toHaveLength(1);
    const token = h.announced[0]!;
    const row = h.db.prepare('SELECT token_hash FROM http_admin_token').get() as { token_hash: string };
    expect(row.token_hash).toBe(hashToken(token));
    expect(JSON.stringify(h.db.prepare('SELECT * FROM http_admin_token').all())).not.toContain(token);
    const me = await h.http.app.inject({ url: '/api/me', headers: { authorization: `Bearer ${token}` } });
    expect(me.json()).toMatchObject({ name: 'admin', role: 'engineer' });
    await h.http.app.close();
  });

  it('HEATWATCH_ADMIN_TOKEN is an engineer token and suppresses the first-start token', async () => {
    const h = await makeHarness({ users: { users: [] }, adminToken: 'env-admin-token-xyz' });
    expect(h.announced).toHaveLength(0);
    const me = await h.http.app.inject({
      url: '/api/me',
      headers: { authorization: 'Bearer env-admin-token-xyz' },
    });
    expect(me.json()).toMatchObject({ name: 'admin', role: 'engineer' });
    await h.http.app.close();
  });

  it('users reloaded: a removed token stops working at once', async () => {
    const h = await makeHarness();
    h.http.auth.setUsers({ users: USERS.users.filter((u) => u.name !== 'vera') });
    const res = await h.http.app.inject({
      url: '/api/me',
      headers: { authorization: `Bearer ${TOKENS.viewer}` },
    });
    expect(res.statusCode).toBe(401);
    await h.http.app.close();
  });
});
