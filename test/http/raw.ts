import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection (rather than the test giving up waiting). */
  closed: boolean;
  ms: number;
}

/**
 * Writes `chunks` to a fresh TCP connection (with `gapMs` between them) and reads until the server
 * closes or `waitMs` passes. For what a well-behaved HTTP client would never send: broken framing,
 * oversized headers, requests that stop half-way.
 */
export function rawRequest(
  port: number,
  chunks: Array<string | Buffer>,
  o: { waitMs?: number; gapMs?: number; endAfterWrite?: boolean } = {},
): Promise<RawResponse> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const sock = connect({ port, host: '127.0.0.1' });
    const parts: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ ...parse(Buffer.concat(parts).toString('latin1')), closed, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => finish(false), o.waitMs ?? 10_000);
    sock.on('data', (d) => parts.push(d));
    sock.on('close', () => finish(true));
    sock.on('error', () => finish(true));
    sock.on('connect', async () => {
      for (const c of chunks) {
        if (sock.destroyed) return;
        sock.write(c);
        if (o.gapMs) await new Promise((r) => setTimeout(r, o.gapMs));
      }
      if (o.endAfterWrite) sock.end();
    });
  });
}

function parse(text: string): { status: number; headers: Record<string, string>; body: string } {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: '' };
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  let body = text.slice(end + 4);
  if (headers['transfer-encoding'] === 'chunked') body = unchunk(body);
  return { status: Number(statusLine?.split(' ')[1] ?? 0), headers, body };
}

function unchunk(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const nl = s.indexOf('\r\n', i);
    if (nl < 0) break;
    const n = Number.parseInt(s.slice(i, nl), 16);
    if (!n) break;
    out += s.slice(nl + 2, nl + 2 + n);
    i = nl + 2 + n + 2;
  }
  return out;
}

/** The one error shape every 4xx/5xx body must have. */
export function isErrorShape(body: unknown): boolean {
  if (!body || typeof body !== 'object') return false;
  const b = body as Record<string, unknown>;
  const keys = Object.keys(b).sort();
  const allowed = ['code', 'field', 'message', 'statusCode'];
  return (
    keys.every((k) => allowed.includes(k)) &&
    typeof b.statusCode === 'number' &&
    typeof b.code === 'string' &&
    b.code.startsWith('HW_ERR_') &&
    typeof b.message === 'string'
  );
}
