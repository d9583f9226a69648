import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createServer as createTlsServer, TLSSocket, type Server as TlsServer } from 'node:tls';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import type { ServiceConfig } from '../config/service-schema.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { RateLimiter } from './limits.ts';

export type BrokerLimits = ServiceConfig['mqtt']['limits'];
export type BrokerTls = NonNullable<ServiceConfig['mqtt']['tls']>;

import type { BrokerAuth, Principal } from './broker-auth.ts';

export { type BrokerAuth, openAuth, type Principal } from './broker-auth.ts';

/** Counters for /metrics; each only grows while the broker runs. */
export interface BrokerStats {
  connectionsAccepted: number;
  clientsConnected: number;
  authFailures: number;
  /** Connections refused by `connectAttemptsPerMin`. */
  connectRateLimited: number;
  /** Publishes dropped by `devicePublishesPerMin`. */
  rateLimited: number;
  aclDeniedPublish: number;
  aclDeniedSubscribe: number;
  /** Packets refused by size (`maxPayloadBytes`): the connection is closed before the body is read. */
  oversizedPackets: number;
  /** Connections closed for a protocol error (malformed packet, bad CONNECT, timeout). */
  protocolErrors: number;
}

export interface EmbeddedBrokerOptions {
  host: string;
  /** 0: the OS picks a free port (tests). */
  port: number;
  limits: BrokerLimits;
  auth: BrokerAuth;
  log: Logger;
  /** Rate limits run in heating time (default: the wall clock). */
  clock?: Clock;
  tls?: BrokerTls;
}

/**
 * Dropped publishes are re-routed here instead of being refused with an error: aedes closes the
 * connection on an authorizePublish error, and a device that is merely too chatty (or misconfigured)
 * should be throttled, not cut off into a reconnect loop. MQTT 3.1.1 has no negative PUBACK, so this
 * is what Mosquitto does too for a denied publish. Nobody can subscribe to a `$` topic here, and `#`
 * never matches one [MQTT-4.7.2-1], so what lands here reaches no one.
 */
const DROP_PREFIX = '$heatwatch';
const DROP_TOPIC = `${DROP_PREFIX}/dropped`;

/**
 * Room for the topic, packet id and header of a PUBLISH on top of its payload when judging the
 * packet length on the wire; the payload itself is then held to `maxPayloadBytes` exactly.
 */
const PACKET_OVERHEAD_BYTES = 1024;

/** Connect-attempt keys remembered at most (they come from the wire; see RateLimiter). */
const MAX_TRACKED_CLIENT_IDS = 100_000;

interface PacketParser {
  packet: { length: number };
  _parseLength(): boolean;
  _emitError(err: Error): void;
}

/**
 * aedes 1.x embedded (docs/architecture.md decision 1), with the trust layer plugged into its hooks and the
 * limits of `mqtt.limits` applied. Constructor assigns; `start()` opens sockets, `stop()` closes them.
 */
export class EmbeddedBroker {
  private aedes: Aedes | undefined;
  private server: Server | undefined;
  private tlsServer: TlsServer | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly principals = new WeakMap<Client, Principal>();
  private readonly connectRefused = new WeakSet<Client>();
  private publishLimiter: RateLimiter | undefined;
  private connectLimiter: RateLimiter | undefined;
  private pruneTimer: { cancel(): void } | undefined;
  private quiesced = false;
  private readonly counters: BrokerStats = {
    connectionsAccepted: 0,
    clientsConnected: 0,
    authFailures: 0,
    connectRateLimited: 0,
    rateLimited: 0,
    aclDeniedPublish: 0,
    aclDeniedSubscribe: 0,
    oversizedPackets: 0,
    protocolErrors: 0,
  };

  constructor(private readonly opts: EmbeddedBrokerOptions) {}

  stats(): BrokerStats {
    return { ...this.counters, clientsConnected: this.aedes?.connectedClients ?? 0 };
  }

  /** Listens; resolves with the ports actually bound (useful when 0 was asked for). */
  async start(): Promise<{ port: number; tlsPort?: number }> {
    const { limits, log } = this.opts;
    const clock = this.opts.clock ?? systemClock();
    this.publishLimiter = new RateLimiter(clock, limits.devicePublishesPerMin, MAX_TRACKED_CLIENT_IDS);
    this.connectLimiter = new RateLimiter(clock, limits.connectAttemptsPerMin, MAX_TRACKED_CLIENT_IDS);
    this.pruneTimer = clock.setInterval(() => {
      this.publishLimiter?.prune();
      this.connectLimiter?.prune();
    }, 60_000);

    const aedes = new Aedes({
      // Messages in flight through the router at once. A subscriber whose socket is full holds its
      // slot until it drains; with N slots and a frozen subscriber every other client gets at most N
      // more messages, so concurrency only buys time and drainTimeout below is the real guard.
      concurrency: limits.brokerConcurrency,
      // A subscriber that has not drained within this time is disconnected, so one slow or frozen
      // client (heatwatch's own ingestion included) cannot stall delivery to everyone (issue 6 item 2).
      // Its QoS 1 messages stay queued for it if it has a persistent session.
      drainTimeout: limits.drainTimeoutMs,
      // A socket that never sends CONNECT is closed after this (slow-loris guard).
      connectTimeout: limits.connectTimeoutMs,
      // Deeper topics are refused before they reach the router; heatwatch's own are 4 levels below
      // the root (`heat/sensors/{id}/telemetry`).
      maxTopicLevels: limits.maxTopicLevels,
      preConnect: (client, packet, done) => {
        // [MQTT-3.1.3-6] an empty client id gets a server-assigned one, so count those by address.
        const key = packet.clientId
          ? `id:${packet.clientId}`
          : `addr:${client.conn && 'remoteAddress' in client.conn ? client.conn.remoteAddress : '?'}`;
        if (!this.connectLimiter?.take(key)) this.connectRefused.add(client);
        done(null, true);
      },
      authenticate: (client, username, password, done) => this.authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => this.authorizePublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => {
        const p = this.principals.get(client);
        if (!p || sub.topic.startsWith(DROP_PREFIX) || !this.opts.auth.canSubscribe(p, sub.topic)) {
          this.counters.aclDeniedSubscribe++;
          log.debug({ id: p?.id, topic: sub.topic }, 'mqtt subscription denied by ACL');
          // [MQTT-3.9.3] a null subscription is answered with return code 0x80 (failure).
          return done(null, null);
        }
        done(null, sub);
      },
      // Second line of defence: even a restored or hijacked session only receives what its principal
      // may read (retained messages and queued QoS 1 messages pass through here too).
      authorizeForward: (client, packet) => {
        const p = this.principals.get(client);
        return p && this.opts.auth.canSubscribe(p, packet.topic) ? packet : null;
      },
    });
    aedes.on('clientError', (client, err) => {
      this.counters.protocolErrors++;
      log.debug({ clientId: client.id, err: err.message }, 'mqtt client error');
    });
    aedes.on('connectionError', (_client, err) => {
      this.counters.protocolErrors++;
      log.debug({ err: err.message }, 'mqtt connection error');
    });
    await aedes.listen();
    this.aedes = aedes;
    this.quiesced = false;

    this.server = createServer((socket) => this.accept(socket));
    const port = await listen(this.server, this.opts.port, this.opts.host);
    const tlsPort = await this.listenTls();
    log.info({ host: this.opts.host, port, tlsPort }, 'embedded mqtt broker listening');
    return tlsPort === undefined ? { port } : { port, tlsPort };
  }

  /** The TLS listener when `mqtt.tls` is configured; resolves with its bound port. */
  private async listenTls(): Promise<number | undefined> {
    const t = this.opts.tls;
    if (!t) return undefined;
    this.tlsServer = createTlsServer(
      {
        cert: readFileSync(t.certFile),
        key: readFileSync(t.keyFile),
        ...(t.caFile ? { ca: readFileSync(t.caFile) } : {}),
        requestCert: t.requireClientCert,
        rejectUnauthorized: t.requireClientCert,
        minVersion: 'TLSv1.2',
      },
      (socket) => this.accept(socket),
    );
    return listen(this.tlsServer, t.port, this.opts.host);
  }

  /** aedes' publish hook: oversized, ACL-denied and rate-limited publishes are dropped, not refused. */
  private authorizePublish(
    client: Client | null,
    packet: PublishPacket,
    done: (err?: Error | null) => void,
  ): void {
    const { limits, log } = this.opts;
    // client is null only for a will left behind by another broker instance; one embedded
    // broker has none to honour.
    const p = client ? this.principals.get(client) : undefined;
    if (!p) done(new Error('publish without an authenticated session'));
    else if (packet.payload.length > limits.maxPayloadBytes) {
      this.counters.oversizedPackets++;
      drop(packet, done);
    } else if (!this.opts.auth.canPublish(p, packet.topic)) {
      this.counters.aclDeniedPublish++;
      log.debug({ id: p.id, topic: packet.topic }, 'mqtt publish denied by ACL');
      drop(packet, done);
    } else if (this.opts.auth.isRateLimited(p) && !this.publishLimiter?.take(p.id)) {
      this.counters.rateLimited++;
      drop(packet, done);
    } else done(null);
  }

  /** aedes' authenticate hook: rate-limited attempts refused, then credentials, client id and certificate name. */
  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (err: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const { log } = this.opts;
    if (this.connectRefused.has(client)) {
      this.counters.connectRateLimited++;
      done(refusal('too many connection attempts', 3), null);
      return;
    }
    this.opts.auth.authenticate(username, password).then(
      (principal) => {
        if (!principal) {
          this.counters.authFailures++;
          log.warn({ clientId: client.id, username }, 'mqtt connection refused: bad credentials');
          // [MQTT-3.2.2.3] 4 = bad user name or password, 5 = not authorized (no credentials).
          return done(refusal('bad user name or password', username ? 4 : 5), null);
        }
        if (!this.opts.auth.canUseClientId(principal, client.id)) {
          this.counters.authFailures++;
          log.warn({ clientId: client.id, username }, 'mqtt connection refused: client id not allowed');
          return done(refusal('client id not allowed for this account', 2), null);
        }
        if (!this.tlsIdentityMatches(client, principal)) {
          this.counters.authFailures++;
          log.warn({ clientId: client.id, username }, 'mqtt connection refused: certificate name');
          return done(refusal('client certificate does not match the user name', 5), null);
        }
        this.principals.set(client, principal);
        done(null, true);
      },
      (err: unknown) => {
        this.counters.authFailures++;
        log.error({ err, clientId: client.id }, 'mqtt authentication failed with an error');
        done(refusal('authentication unavailable', 3), null);
      },
    );
  }

  /**
   * The first step of a graceful stop, to run while heatwatch's own subscriber is still connected:
   * no new connections, devices disconnected (their unacknowledged QoS 1 messages stay with them
   * and are sent again after the restart), and what aedes already acknowledged to devices delivered
   * to the service sessions. aedes keeps that only in memory, so without this step a stop would lose
   * it. Bounded by `drainTimeoutMs`; what is still pending then is logged.
   */
  async quiesce(): Promise<void> {
    const aedes = this.aedes;
    if (!aedes || this.quiesced) return;
    this.quiesced = true;
    for (const s of [this.server, this.tlsServer]) if (s?.listening) s.close();
    const clients = Object.values((aedes as unknown as { clients: Record<string, Client> }).clients);
    const services: Client[] = [];
    for (const c of clients) {
      if (this.principals.get(c)?.kind === 'service') services.push(c);
      else c.close();
    }
    // Wall time, not the injected clock: this waits for sockets, and a frozen test clock must not
    // turn the bound into an endless wait.
    const deadlineMs = performance.now() + this.opts.limits.drainTimeoutMs;
    let countMs = 0;
    let pending = await this.pendingDeliveries(aedes, services);
    while (pending > 0 && performance.now() < deadlineMs) {
      // Counting walks every queued message: with tens of thousands queued, counting every 10 ms
      // starved the very deliveries it waits for. Pause ten times as long as the last count took.
      await new Promise((resolve) => setTimeout(resolve, Math.max(10, 10 * countMs)));
      const t0 = performance.now();
      pending = await this.pendingDeliveries(aedes, services);
      countMs = performance.now() - t0;
    }
    if (pending > 0)
      this.opts.log.warn({ pending }, 'broker stopped with messages not yet delivered to heatwatch');
  }

  /** Messages routed but not delivered, plus QoS 1 messages queued for the service sessions. */
  private async pendingDeliveries(aedes: Aedes, services: Client[]): Promise<number> {
    // Not in aedes' typings: the router (mqemitter) and the persistence the broker was built with.
    const inner = aedes as unknown as {
      mq: { length: number; current: number };
      persistence: { outgoingStream(c: Client): AsyncIterable<unknown> };
    };
    let n = inner.mq.length + inner.mq.current;
    for (const c of services) {
      if (c.closed) continue;
      for await (const _packet of inner.persistence.outgoingStream(c)) n++;
    }
    return n;
  }

  async stop(): Promise<void> {
    await this.quiesce();
    this.pruneTimer?.cancel();
    this.pruneTimer = undefined;
    const aedes = this.aedes;
    this.aedes = undefined;
    const closing = [this.server, this.tlsServer].map(
      (s) => new Promise<void>((resolve) => (s?.listening ? s.close(() => resolve()) : resolve())),
    );
    // Sockets go first: a client whose socket still holds unread publishes would otherwise feed
    // them to aedes as it closes, each completing synchronously once no subscriber is left, and
    // that recursion overflowed the stack with tens of thousands buffered. Unread means never
    // acknowledged, so the devices still hold those messages and send them again.
    for (const s of this.sockets) s.destroy();
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await Promise.all(closing);
    this.server = undefined;
    this.tlsServer = undefined;
  }

  private accept(socket: Socket): void {
    const aedes = this.aedes;
    if (!aedes) return void socket.destroy();
    this.counters.connectionsAccepted++;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.setNoDelay(true);
    const client = aedes.handle(socket);
    this.limitPacketSize(client);
  }

  /**
   * mqtt-packet's parser has no size limit and would buffer a packet of up to 256 MB whose length
   * header says so. We check the announced remaining length as soon as it is parsed and close the
   * connection before its body is read (issue 6 item 2; Mosquitto's `max_packet_size` does the same).
   */
  private limitPacketSize(client: Client): void {
    const parser = (client as unknown as { _parser?: PacketParser })._parser;
    if (!parser || typeof parser._parseLength !== 'function') {
      this.opts.log.error('aedes parser internals changed: mqtt packet size limit is NOT enforced');
      return;
    }
    const maxBytes = this.opts.limits.maxPayloadBytes + PACKET_OVERHEAD_BYTES;
    const counters = this.counters;
    const parseLength = parser._parseLength;
    parser._parseLength = function limitedParseLength(this: PacketParser): boolean {
      const ok = parseLength.call(this);
      if (ok && this.packet.length > maxBytes) {
        counters.oversizedPackets++;
        this._emitError(new Error(`packet of ${this.packet.length} bytes exceeds ${maxBytes}`));
        return false;
      }
      return ok;
    };
  }

  /** With client certificates required, the certificate's CN must be the user name it logs in with. */
  private tlsIdentityMatches(client: Client, p: Principal): boolean {
    if (!this.opts.tls?.requireClientCert || !(client.conn instanceof TLSSocket)) return true;
    const cn = client.conn.getPeerCertificate()?.subject?.CN;
    return cn === p.id;
  }
}

function refusal(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

function drop(packet: { topic: string; retain: boolean }, done: (err?: Error | null) => void): void {
  packet.topic = DROP_TOPIC;
  packet.retain = false;
  done(null);
}

function listen(server: Server | TlsServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}
