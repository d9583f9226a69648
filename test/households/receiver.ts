import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DELIVERY_HEADER, SIGNATURE_HEADER, signBody } from '../../src/households/outbox.ts';

export const SECRET = 'test-secret';

export interface Delivery {
  id: string;
  kind: string;
  signatureOk: boolean;
  body: { deliveryId: string; kind: string; data: Record<string, unknown> };
}

/** A webhook receiver on loopback that checks signatures and dedupes by delivery id. */
export async function receiver(mode: { hang?: boolean } = {}) {
  const all: Delivery[] = [];
  const unique = new Map<string, Delivery>();
  let sawRequest: () => void = () => {};
  const seen = new Promise<void>((r) => {
    sawRequest = r;
  });
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const d: Delivery = {
        id: String(req.headers[DELIVERY_HEADER]),
        kind: String(req.headers['x-heatwatch-kind']),
        signatureOk: req.headers[SIGNATURE_HEADER] === signBody(SECRET, raw),
        body: JSON.parse(raw),
      };
      all.push(d);
      if (!unique.has(d.id)) unique.set(d.id, d);
      sawRequest();
      if (!mode.hang) res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return { url, all, unique, seen, close };
}
