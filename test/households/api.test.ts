import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HouseholdsModule } from '../../src/households/module.ts';
import { hashToken } from '../../src/http/auth.ts';
import { type Harness, makeHarness, TOKENS, USERS } from '../http/harness.ts';
import { HOUR, households } from './support.ts';

const FIELD_TOKEN = 'tok-field-crew-0123456789';
const MIN = 60_000;

describe('households API', () => {
  let h: Harness;
  let mod: HouseholdsModule;
  beforeAll(async () => {
    h = await makeHarness({
      users: { users: [...USERS.users, { name: 'crew7', role: 'field', tokenHash: hashToken(FIELD_TOKEN) }] },
      households: (bus, clock, live) => {
        mod = households({ clock, bus, index: live.index, cfg: { cases: { watchH: 2 } } }).mod;
        return mod;
      },
    });
    await mod.start();
  });
  afterAll(async () => {
    await mod.stop();
    await h.http.app.close();
  });

  const call = (method: 'GET' | 'POST', url: string, token: string, body?: object) =>
    h.http.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(body ? { payload: body } : {}),
    });
  const complaint = {
    unit: 'n01/6-1',
    channel: 'hotline',
    cls: 'temperature',
    caller: 'Mrs Li, 6th floor',
    text: 'Bedroom 15 degrees since Monday',
  };

  it('refuses bad input with the error shape: unknown unit, no class, one name, a future time', async () => {
    const unknown = await call('POST', '/api/households/complaints', TOKENS.operator, {
      ...complaint,
      unit: 'n01/9-1',
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'HW_ERR_UNKNOWN_UNIT', field: 'body.unit' });
    const { cls: _c, ...noClass } = complaint;
    const r2 = await call('POST', '/api/households/complaints', TOKENS.operator, noClass);
    expect(r2.statusCode).toBe(400);
    expect(r2.json()).toMatchObject({ code: 'HW_ERR_BAD_REQUEST', field: 'body.cls' });
    const oneName = await call('POST', '/api/households/measurements', TOKENS.operator, {
      unit: 'n01/6-1',
      ts: h.clock.now(),
      rooms: [{ room: 'bedroom', tempC: 17 }],
      measuredBy: ['Wang Wei', 'wang wei'],
    });
    expect(oneName.json()).toMatchObject({ statusCode: 400, field: 'body.measuredBy' });
    const future = await call('POST', '/api/households/measurements', TOKENS.operator, {
      unit: 'n01/6-1',
      ts: h.clock.now() + HOUR,
      rooms: [{ room: 'bedroom', tempC: 17 }],
      measuredBy: ['Wang Wei', 'Zhao Min'],
    });
    expect(future.json()).toMatchObject({ statusCode: 400, field: 'body.ts' });
  });

  it('roles: viewers read but do not take complaints; the field app reaches only its work orders', async () => {
    expect((await call('POST', '/api/households/complaints', TOKENS.viewer, complaint)).statusCode).toBe(403);
    expect((await call('GET', '/api/households/cases', TOKENS.viewer)).statusCode).toBe(200);
    expect((await call('GET', '/api/households/cases', FIELD_TOKEN)).statusCode).toBe(403);
    expect((await call('GET', '/api/buildings', FIELD_TOKEN)).statusCode).toBe(403);
  });

  it('complaint → case and task; cold measurement → repair order; crew answers; call-back; warm measurement; closed', async () => {
    const r = await call('POST', '/api/households/complaints', TOKENS.operator, complaint);
    expect(r.statusCode).toBe(200);
    const caseId = r.json().case.id as string;
    const list = (await call('GET', '/api/households/cases', TOKENS.viewer)).json();
    expect(list.cases).toMatchObject([{ id: caseId, state: 'measuring', owner: 'otto', complaints: 1 }]);
    expect(list.cases[0].pendingTaskDueTs).toBe(h.clock.now() + 24 * HOUR);

    const cold = await call('POST', '/api/households/measurements', TOKENS.operator, {
      unit: 'n01/6-1',
      ts: h.clock.now(),
      rooms: [
        { room: 'living', tempC: 16.5 },
        { room: 'bedroom', tempC: 15.9 },
      ],
      measuredBy: ['Wang Wei', 'Zhao Min'],
    });
    expect(cold.statusCode).toBe(200);
    const detail = (await call('GET', `/api/households/cases/${caseId}`, TOKENS.viewer)).json();
    expect(detail.case).toMatchObject({ state: 'fixing', escalationLevel: 1 });
    const wo = detail.workOrders[0];
    expect(wo).toMatchObject({ type: 'repair', state: 'sent' });

    const status = (body: object, token = FIELD_TOKEN) =>
      call('POST', `/api/households/work-orders/${wo.id}/status`, token, body);
    expect((await status({ status: 'accepted' }, TOKENS.viewer)).statusCode).toBe(403);
    expect((await status({ status: 'done', note: 'x', photoRef: 'p' })).json()).toMatchObject({
      statusCode: 409,
      code: 'HW_ERR_WORK_ORDER_STATE',
    });
    expect((await status({ status: 'accepted' })).statusCode).toBe(200);
    h.clock.advance(25 * MIN);
    expect((await status({ status: 'on_site' })).json()).toMatchObject({ state: 'on_site', late: true });
    expect((await status({ status: 'done', note: 'bled the radiator' })).statusCode).toBe(400);
    expect(
      (await status({ status: 'done', note: 'bled the radiator', photoRef: 'photos/wo-1.jpg' })).statusCode,
    ).toBe(200);

    const warm = await call('POST', '/api/households/measurements', TOKENS.operator, {
      unit: 'n01/6-1',
      ts: h.clock.now(),
      rooms: [{ room: 'bedroom', tempC: 19.2 }],
      measuredBy: ['Wang Wei', 'Zhao Min'],
    });
    expect(warm.json().case.state).toBe('watching');
    h.clock.advance(3 * HOUR);
    await mod.service.checkDue();
    // No call-back yet: the watch held, but the case stays open.
    expect((await call('GET', `/api/households/cases/${caseId}`, TOKENS.viewer)).json().case.state).toBe(
      'watching',
    );
    const cb = await call('POST', `/api/households/work-orders/${wo.id}/callback`, TOKENS.operator, {
      result: 'warm again',
      satisfied: true,
    });
    expect(cb.statusCode).toBe(200);
    await mod.service.checkDue();
    const closed = (await call('GET', `/api/households/cases/${caseId}`, TOKENS.viewer)).json();
    expect(closed.case.state).toBe('closed');
    expect(closed.complaints[0].closedTs).toBeDefined();

    const audit = h.db
      .prepare(`SELECT action, outcome FROM http_audit WHERE action LIKE 'household%' ORDER BY id`)
      .all() as Array<{ action: string; outcome: string }>;
    expect(audit.filter((a) => a.outcome === 'ok').map((a) => a.action)).toEqual([
      'household.complaint',
      'household.measurement',
      'household.work_order.status',
      'household.work_order.status',
      'household.work_order.status',
      'household.measurement',
      'household.callback',
    ]);
    expect(audit.some((a) => a.outcome === 'refused')).toBe(true);
  });

  it('bulletin: made by an operator, served as JSON, printable HTML and CSV; viewers may not make one', async () => {
    expect((await call('POST', '/api/households/bulletins', TOKENS.viewer)).statusCode).toBe(403);
    const made = await call('POST', '/api/households/bulletins', TOKENS.operator);
    expect(made.statusCode).toBe(200);
    const id = made.json().id as string;
    expect((await call('GET', '/api/households/bulletins', TOKENS.viewer)).json().bulletins[0].id).toBe(id);
    const latest = (await call('GET', '/api/households/bulletins/latest', TOKENS.viewer)).json();
    expect(latest.company.complaints.byClass.temperature).toBe(1);
    const html = await call('GET', `/api/households/bulletins/${id}/html`, TOKENS.viewer);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.body).toContain('<table>');
    const csv = await call('GET', `/api/households/bulletins/${id}/csv?table=worst`, TOKENS.viewer);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.body.split('\n')[0]).toBe(
      'buildingId,name,substationId,degreeHoursBelow,inBandShare,complaints,openCases',
    );
    expect((await call('GET', '/api/households/bulletins/nope', TOKENS.viewer)).statusCode).toBe(404);
  });

  it('season review: buildings ranked into the summer repair list, JSON and CSV', async () => {
    const r = (await call('GET', '/api/households/season-review', TOKENS.viewer)).json();
    expect(r.rows[0]).toMatchObject({
      rank: 1,
      buildingId: 'n01',
      cases: 1,
      complaints: 1,
      repeatedFieldTasks: 0,
    });
    expect(r.rows[0].complaintsByClass.temperature).toBe(1);
    expect(r.rows.length).toBe(16);
    const csv = await call('GET', '/api/households/season-review/csv', TOKENS.viewer);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const [head, first] = csv.body.split('\n');
    expect(head).toMatch(/^rank,buildingId,name,street,substationId,hoursBelow18,cases,complaints,/);
    expect(first).toMatch(/^1,n01,n01,Birch Road,ss-north,/);
  });
});
