import type { FastifyInstance } from 'fastify';

/**
 * Listens and shuts down gracefully: stop accepting, end the live streams (preClose hook), let
 * in-flight requests finish, then resolve. The module list stops it before the stores: src/app/http.ts
 * adds it after the blocks that open them (src/main.ts starts the blocks in order).
 */
export class HttpServer {
  private address?: string;

  constructor(
    private readonly app: FastifyInstance,
    private readonly host: string,
    private readonly port: number,
  ) {}

  async start(): Promise<string> {
    this.address = await this.app.listen({ host: this.host, port: this.port });
    return this.address;
  }

  /** The port actually bound (useful with port 0). */
  get boundPort(): number {
    const a = this.app.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async stop(): Promise<void> {
    await this.app.close();
  }
}
