import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/**
 * A TCP proxy a fault test controls, between heatwatch and a real server (the machine's
 * PostgreSQL): `cut()` kills every open connection and then either refuses new ones (reset at once:
 * a server that is down) or swallows them (`blackhole`: accepted, never answered, like a dead host
 * or a dropped route); `restore()` forwards again. Listens on 127.0.0.1, an ephemeral port.
 */
export class TcpProxy {
  private readonly pairs = new Set<[Socket, Socket | undefined]>();
  private state: 'open' | 'refuse' | 'blackhole' = 'open';
  /** Connections accepted while open (forwarded), and those turned away during a cut. */
  forwarded = 0;
  turnedAway = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('proxy has no port');
    const proxy = new TcpProxy(server, address.port);
    server.on('connection', (client) => proxy.accept(client, targetHost, targetPort));
    return proxy;
  }

  /** `host:port` of the proxy, for a connection URL. */
  get hostPort(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Kills every open connection; new ones are refused (`refuse`) or left hanging (`blackhole`). */
  cut(mode: 'refuse' | 'blackhole' = 'refuse'): void {
    this.state = mode;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b?.destroy();
    }
    this.pairs.clear();
  }

  /**
   * Stops forwarding in both directions on every open connection, at once, and leaves new ones
   * unanswered: the process behind the proxy hangs on its next database call, and the server sees
   * nothing more from it. What it had sent before still reaches the server. `cut()` then closes
   * them, as the host does for a process that died.
   */
  freeze(): void {
    this.state = 'blackhole';
    for (const [a, b] of this.pairs) {
      a.unpipe();
      b?.unpipe();
      a.pause();
      b?.pause();
    }
  }

  /** Forwards new connections again (hung ones from a blackhole are closed). */
  restore(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b?.destroy();
    }
    this.pairs.clear();
    this.state = 'open';
  }

  get openConnections(): number {
    return this.pairs.size;
  }

  async close(): Promise<void> {
    this.cut('refuse');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, host: string, port: number): void {
    client.on('error', () => {});
    if (this.state === 'refuse') {
      this.turnedAway++;
      client.resetAndDestroy();
      return;
    }
    if (this.state === 'blackhole') {
      this.turnedAway++;
      const pair: [Socket, Socket | undefined] = [client, undefined];
      this.pairs.add(pair);
      client.on('close', () => this.pairs.delete(pair));
      return;
    }
    this.forwarded++;
    const upstream = tcpConnect(port, host);
    const pair: [Socket, Socket | undefined] = [client, upstream];
    this.pairs.add(pair);
    upstream.on('error', () => client.destroy());
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
