import type { SubstationReading } from '../core/readings.ts';
import type { RegistryIndex } from '../core/registry.ts';
import { operatorActions } from '../tickets/lifecycle.ts';
import type { EvidenceUnit, TicketAction, TicketsPort, TicketView } from './ports.ts';

/**
 * The shape of the ticket module's records that the API shows, stated structurally so the HTTP
 * layer depends on no more of src/tickets than it reads.
 */
interface TicketRecord {
  id: string;
  status: string;
  problem: string;
  targetKind: 'unit' | 'building' | 'substation';
  targetId: string;
  substationId: string;
  summary: string;
  evidence: Record<string, unknown>;
  action:
    | { kind: 'supply-offset'; deltaC: number }
    | { kind: 'slope'; delta: number }
    | { kind: 'valves'; valves: Record<string, number>; previous: Record<string, number> }
    | { kind: 'preheat'; offsetC: number; untilTs: number }
    | { kind: 'field'; task: string };
  predicted: { text: string; deltaC?: number; afterH?: number };
  createdTs: number;
  updatedTs: number;
  recheckDueTs?: number;
}
interface TicketEventRecord {
  ts: number;
  actor: string;
  kind: string;
  fromStatus?: string;
  toStatus?: string;
  reason?: string;
}
export interface TicketServiceLike {
  list(filter?: { status?: string }): Promise<TicketRecord[]>;
  get(id: string): Promise<{ ticket: TicketRecord; events: TicketEventRecord[] } | undefined>;
  approve(id: string, actor: string, reason?: string): Promise<unknown>;
  reject(id: string, actor: string, reason?: string): Promise<unknown>;
  close(id: string, actor: string, reason?: string): Promise<unknown>;
  apply(id: string, actor: string, reason?: string): Promise<unknown>;
  /** The ticket's latest setpoint command and its confirmation, beside what the substation reports. */
  setpointStatus?(ticketId: string, reported?: SubstationReading): Promise<TicketView['setpoint']>;
}

const sign = (v: number, digits = 1) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(digits)}`;

function describe(a: TicketRecord['action']): TicketView['proposal'] {
  switch (a.kind) {
    case 'supply-offset':
      return {
        kind: a.kind,
        params: { deltaC: a.deltaC },
        description: `Supply temperature offset ${sign(a.deltaC)} °C`,
        supplyOffsetC: a.deltaC,
      };
    case 'slope':
      return {
        kind: a.kind,
        params: { delta: a.delta },
        description: `Heating-curve slope ${sign(a.delta, 2)}`,
      };
    case 'valves': {
      const parts = Object.entries(a.valves).map(
        ([b, v]) =>
          `${b} ${v.toFixed(0)} %${a.previous[b] !== undefined ? ` (was ${a.previous[b]!.toFixed(0)} %)` : ''}`,
      );
      const params: Record<string, number> = {};
      for (const [b, v] of Object.entries(a.valves)) params[b] = v;
      for (const [b, v] of Object.entries(a.previous)) params[`was:${b}`] = v;
      const first = Object.values(a.valves)[0];
      return {
        kind: a.kind,
        params,
        description: `Building entry valves: ${parts.join(', ')}`,
        valvePct: first,
      };
    }
    case 'preheat':
      return {
        kind: a.kind,
        params: { offsetC: a.offsetC, untilTs: a.untilTs },
        description: `Pre-heat: offset ${sign(a.offsetC)} °C until ${new Date(a.untilTs).toISOString().slice(0, 16)} UTC`,
        supplyOffsetC: a.offsetC,
      };
    case 'field':
      return { kind: a.kind, params: { task: a.task }, description: `Field task: ${a.task}` };
  }
}

/** Names carry units (supplyTempC, valvePct, lagH): the suffix says how a value is shown. */
function unitOf(key: string): EvidenceUnit | undefined {
  if (/C$/.test(key)) return 'C';
  if (/Pct$/.test(key)) return 'pct';
  if (/H$/.test(key)) return 'h';
  if (/Share$/.test(key)) return 'share';
  return undefined;
}

function evidenceRows(e: Record<string, unknown>): TicketView['evidence'] {
  return Object.entries(e).map(([key, v]) => ({
    key,
    label: key.replace(/([a-z])([A-Z])/g, '$1 $2').replaceAll('_', ' '),
    value:
      typeof v === 'number'
        ? Number.isInteger(v)
          ? String(v)
          : v.toFixed(2)
        : typeof v === 'string'
          ? v
          : JSON.stringify(v),
    ...(typeof v === 'number' && Number.isFinite(v) ? { num: v, unit: unitOf(key) } : {}),
  }));
}

/** Adapts the ticket module's TicketService to the API's TicketsPort. */
export class TicketServiceAdapter implements TicketsPort {
  constructor(
    private readonly service: TicketServiceLike,
    private readonly registry: () => RegistryIndex,
    /** The substation's latest telemetry: the setpoint in force is what it reports. */
    private readonly reported: (substationId: string) => SubstationReading | undefined = () => undefined,
  ) {}

  private async view(t: TicketRecord, events: TicketEventRecord[]): Promise<TicketView> {
    const reg = this.registry();
    const buildingId =
      t.targetKind === 'building'
        ? t.targetId
        : t.targetKind === 'unit'
          ? reg.sensors.get(t.targetId)?.building.id
          : undefined;
    return {
      id: t.id,
      status: t.status,
      problem: t.problem,
      targetKind: t.targetKind,
      targetId: t.targetId,
      substationId: t.substationId,
      buildingId,
      summary: t.summary,
      evidence: evidenceRows(t.evidence),
      proposal: describe(t.action),
      predictedEffect: t.predicted.text,
      ...(t.predicted.deltaC !== undefined && t.predicted.afterH !== undefined
        ? { prediction: { deltaC: t.predicted.deltaC, afterH: t.predicted.afterH } }
        : {}),
      createdTs: t.createdTs,
      updatedTs: t.updatedTs,
      recheckDueTs: t.recheckDueTs,
      // The ticket module's transition table decides; the API offers what it allows.
      actions: operatorActions(t.status),
      setpoint: await this.service.setpointStatus?.(t.id, this.reported(t.substationId)),
      events: events.map((e) => ({
        ts: e.ts,
        actor: e.actor,
        kind: e.kind,
        fromStatus: e.fromStatus,
        toStatus: e.toStatus,
        note: e.reason,
      })),
    };
  }

  async list(filter: { status?: string }): Promise<TicketView[]> {
    const rows = await this.service.list(filter.status ? { status: filter.status } : {});
    const out: TicketView[] = [];
    for (const t of rows) out.push(await this.view(t, (await this.service.get(t.id))?.events ?? []));
    return out;
  }

  async get(id: string): Promise<TicketView | undefined> {
    const got = await this.service.get(id);
    return got ? this.view(got.ticket, got.events) : undefined;
  }

  async act(id: string, action: TicketAction, actor: string, note?: string): Promise<TicketView> {
    // The service throws coded HwErrors (404 unknown, 409 wrong status); they pass through as is.
    await this.service[action](id, actor, note);
    const got = (await this.service.get(id))!;
    return this.view(got.ticket, got.events);
  }
}
