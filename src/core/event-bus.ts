import type { Logger } from 'pino';

/**
 * A typed in-process event bus. Each listener runs on its own: one that throws is logged with its
 * name and the others still run, so one broken feature cannot silence the rest.
 */
export class EventBus<Events extends { [K in keyof Events]: unknown }> {
  private readonly listeners = new Map<keyof Events, Array<{ name: string; fn: (p: never) => void }>>();

  constructor(private readonly log?: Logger) {}

  on<K extends keyof Events>(event: K, name: string, fn: (payload: Events[K]) => void): () => void {
    const list = this.listeners.get(event) ?? [];
    const entry = { name, fn: fn as (p: never) => void };
    list.push(entry);
    this.listeners.set(event, list);
    return () => {
      const cur = this.listeners.get(event);
      if (cur)
        this.listeners.set(
          event,
          cur.filter((e) => e !== entry),
        );
    };
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const list = this.listeners.get(event);
    if (!list) return;
    for (const { name, fn } of list) {
      try {
        (fn as (p: Events[K]) => void)(payload);
      } catch (err) {
        this.log?.error({ err, listener: name, event: String(event) }, 'event listener failed');
      }
    }
  }

  listenerCount(event: keyof Events): number {
    return this.listeners.get(event)?.length ?? 0;
  }
}
