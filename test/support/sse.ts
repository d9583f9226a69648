import { expect } from 'vitest';

export interface SseEvent {
  event: string;
  data: unknown;
}

/**
 * heatwatch's live stream (`GET /api/live`) read with fetch as a client does: each event as it
 * arrives, a wait on them (woken by each event, no polling), and a close.
 */
export async function liveStream(port: number, token: string) {
  const ctrl = new AbortController();
  const res = await fetch(`http://127.0.0.1:${port}/api/live`, {
    headers: { authorization: `Bearer ${token}` },
    signal: ctrl.signal,
  });
  expect(res.status).toBe(200);
  const events: SseEvent[] = [];
  const waiters: Array<() => void> = [];
  void (async () => {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += value;
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
          for (const w of waiters.splice(0)) w();
        }
      }
    } catch {
      // aborted at the end of the test
    }
  })();
  const until = async (pred: () => boolean) => {
    while (!pred()) await new Promise<void>((r) => waiters.push(r));
  };
  return { events, until, close: () => ctrl.abort() };
}
