import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import type { RoomReading } from '../core/readings.ts';
import type { LiveEventName, LiveEvents, LiveReading } from './wire.ts';

export interface SseConfig {
  maxPushesPerS: number;
  maxBufferedBytes: number;
  replayEvents: number;
  maxClients: number;
  maxClientsPerUser: number;
  maxClientsPerAddress: number;
  writeTimeoutMs: number;
  heartbeatMs: number;
}

interface Buffered {
  id: number;
  frame: string;
}

export type { LiveReading };

interface Client {
  res: ServerResponse;
  /** Only readings of these buildings; undefined: all; empty: none. */
  buildings?: Set<string>;
  /** Newest reading per sensor since the last push: coalescing bounds this by the sensor count. */
  pending: Map<string, LiveReading>;
  closed: boolean;
  user: string;
  address: string;
  /** Wall time since which bytes have waited for the socket to drain; undefined while it keeps up. */
  blockedSinceMs?: number;
}

export interface LiveHubStats {
  clients: number;
  dropped: number;
  refused: number;
  eventsSent: number;
  /** Bytes written to clients' sockets but not yet accepted by the kernel, summed. */
  bufferedBytes: number;
}

const frame = <K extends LiveEventName>(event: K, data: LiveEvents[K], id?: number): string =>
  `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/**
 * The live stream behind `GET /api/live` (server-sent events).
 * - Building status and ticket changes get increasing ids and sit in a bounded replay buffer, so a
 *   client that reconnects with `Last-Event-ID` gets what it missed; one that fell behind the buffer
 *   gets a `reset` event and reloads its view.
 * - Readings are coalesced per client (newest per sensor) and pushed at most `maxPushesPerS` times a
 *   second, so a wall screen is not flooded by a city's sensors.
 * - A client whose unsent bytes pass `maxBufferedBytes` is dropped: the server's memory per client is
 *   bounded, and one frozen browser cannot grow the process. One whose socket has accepted nothing
 *   for `writeTimeoutMs` (it stopped reading and the kernel's buffers are full) is dropped too, so it
 *   does not keep its slot. Slots are capped in all, per user and per client address.
 *   (A client that stops reading while only heartbeats flow stays until the kernel's buffers fill:
 *   the process cannot see unread bytes below that.)
 * Timers run on the wall clock: heartbeats and push pacing are about sockets, not heating time.
 */
export class LiveHub {
  private clients = new Set<Client>();
  private buffer: Buffered[] = [];
  private lastId = 0;
  private ticker?: TimerHandle;
  private heartbeat?: TimerHandle;
  private unsubscribe: Array<() => void> = [];
  private dropped = 0;
  private refused = 0;
  private eventsSent = 0;

  constructor(
    private readonly cfg: SseConfig,
    private readonly bus: EventBus<HeatEvents>,
    private readonly wallClock: Clock,
    private readonly log: Logger,
    /**
     * `feed`: building, ticket and case events come from the city's shared live feed
     * (src/ops/live-bridge.ts calls `publish`), not from this process's bus, so every instance
     * streams them in one order; `bus`: one process, straight from the bus.
     */
    private readonly source: 'bus' | 'feed' = 'bus',
  ) {}

  start(): void {
    this.unsubscribe.push(
      this.bus.on('roomReadings', 'http-live', (rs) => this.onReadings(rs)),
      this.bus.on('alert', 'http-live', (a) => this.publish('alert', a)),
    );
    if (this.source === 'bus')
      this.unsubscribe.push(
        this.bus.on('buildingStatus', 'http-live', (s) => this.publish('building', s)),
        this.bus.on('ticketChanged', 'http-live', (t) => this.publish('ticket', t)),
        this.bus.on('caseChanged', 'http-live', (c) => this.publish('case', c)),
      );
    this.ticker = this.wallClock.setInterval(() => this.flushReadings(), 1000 / this.cfg.maxPushesPerS);
    this.heartbeat = this.wallClock.setInterval(() => this.beat(), this.cfg.heartbeatMs);
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    this.ticker?.cancel();
    this.heartbeat?.cancel();
    for (const c of this.clients) {
      c.closed = true;
      c.res.end();
    }
    this.clients.clear();
  }

  stats(): LiveHubStats {
    let bufferedBytes = 0;
    for (const c of this.clients) bufferedBytes += c.res.writableLength;
    return {
      clients: this.clients.size,
      dropped: this.dropped,
      refused: this.refused,
      eventsSent: this.eventsSent,
      bufferedBytes,
    };
  }

  /** Adds an event to the stream (also usable by other modules, e.g. a config-reload notice). */
  publish<K extends LiveEventName>(event: K, data: LiveEvents[K]): void {
    const id = ++this.lastId;
    const f = frame(event, data, id);
    if (this.cfg.replayEvents > 0) {
      this.buffer.push({ id, frame: f });
      if (this.buffer.length > this.cfg.replayEvents)
        this.buffer.splice(0, this.buffer.length - this.cfg.replayEvents);
    }
    for (const c of this.clients) this.write(c, f);
  }

  /** Why a new client cannot have a slot, or undefined when it can. */
  private refusal(
    user: string,
    address: string,
  ): { statusCode: number; code: string; message: string } | undefined {
    if (this.clients.size >= this.cfg.maxClients)
      return { statusCode: 503, code: 'HW_ERR_LIVE_FULL', message: 'Too many live clients; retry shortly.' };
    let byUser = 0;
    let byAddress = 0;
    for (const c of this.clients) {
      if (c.user === user) byUser++;
      if (c.address === address) byAddress++;
    }
    if (byUser >= this.cfg.maxClientsPerUser)
      return {
        statusCode: 429,
        code: 'HW_ERR_LIVE_LIMIT',
        message: `This user already holds ${byUser} live streams; close one (another tab or screen) first.`,
      };
    if (byAddress >= this.cfg.maxClientsPerAddress)
      return {
        statusCode: 429,
        code: 'HW_ERR_LIVE_LIMIT',
        message: `This address already holds ${byAddress} live streams; close one first.`,
      };
    return undefined;
  }

  /** Takes over a hijacked response. Returns false (and answers 503/429) when there is no slot. */
  attach(
    res: ServerResponse,
    opts: {
      lastEventId?: string;
      buildings?: string[];
      headers: Record<string, string>;
      user: string;
      address: string;
    },
  ): boolean {
    const refused = this.refusal(opts.user, opts.address);
    if (refused) {
      this.refused++;
      res.writeHead(refused.statusCode, {
        ...opts.headers,
        'content-type': 'application/json; charset=utf-8',
        'retry-after': '5',
      });
      res.end(JSON.stringify(refused));
      return false;
    }
    const client: Client = {
      res,
      buildings: opts.buildings ? new Set(opts.buildings) : undefined,
      pending: new Map(),
      closed: false,
      user: opts.user,
      address: opts.address,
    };
    res.writeHead(200, {
      ...opts.headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Proxies such as nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    this.clients.add(client);
    res.on('close', () => this.remove(client));
    res.on('drain', () => {
      client.blockedSinceMs = undefined;
    });
    // Reconnection delay the browser uses after a drop.
    this.write(client, `retry: 3000\n: heatwatch live ${this.lastId}\n\n`);
    this.replay(client, opts.lastEventId);
    return true;
  }

  private replay(c: Client, lastEventId: string | undefined): void {
    if (lastEventId === undefined || !/^\d+$/.test(lastEventId)) {
      this.write(c, frame('hello', { lastId: this.lastId }));
      return;
    }
    const since = Number(lastEventId);
    const oldest = this.buffer[0]?.id ?? this.lastId + 1;
    if (since > this.lastId || since < oldest - 1) {
      // Missed more than the buffer holds (or an id from before a restart): start over.
      this.write(c, frame('reset', { lastId: this.lastId }, this.lastId));
      return;
    }
    for (const b of this.buffer) if (b.id > since) this.write(c, b.frame);
  }

  private onReadings(rs: readonly RoomReading[]): void {
    if (this.clients.size === 0) return;
    for (const c of this.clients) {
      if (c.buildings && c.buildings.size === 0) continue;
      for (const r of rs) {
        if (c.buildings && !c.buildings.has(r.buildingId)) continue;
        const cur = c.pending.get(r.sensorId);
        if (cur && cur.ts > r.ts) continue;
        c.pending.set(r.sensorId, {
          sensorId: r.sensorId,
          buildingId: r.buildingId,
          tempC: r.tempC,
          ts: r.ts,
          source: r.source,
        });
      }
    }
  }

  private flushReadings(): void {
    const now = this.wallClock.now();
    for (const c of this.clients) {
      if (c.blockedSinceMs !== undefined && now - c.blockedSinceMs >= this.cfg.writeTimeoutMs) {
        this.drop(c, 'live client accepted nothing within writeTimeoutMs; dropped');
        continue;
      }
      // A client still draining keeps coalescing instead of queueing more frames.
      if (c.pending.size === 0 || c.res.writableNeedDrain) continue;
      const readings = [...c.pending.values()];
      c.pending.clear();
      this.write(c, frame('readings', { readings }));
    }
  }

  private beat(): void {
    for (const c of this.clients) this.write(c, ': hb\n\n');
  }

  private write(c: Client, f: string): void {
    if (c.closed) return;
    const flushed = c.res.write(f);
    this.eventsSent++;
    if (!flushed) c.blockedSinceMs ??= this.wallClock.now();
    if (c.res.writableLength > this.cfg.maxBufferedBytes) this.drop(c, 'live client too slow; dropped');
  }

  private drop(c: Client, why: string): void {
    this.dropped++;
    this.log.warn({ bufferedBytes: c.res.writableLength, user: c.user }, why);
    this.remove(c);
    c.res.destroy();
  }

  private remove(c: Client): void {
    c.closed = true;
    c.pending.clear();
    this.clients.delete(c);
  }
}
