import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/core/event-bus.ts';
import { silentLogger } from '../../src/core/log.ts';

describe('EventBus', () => {
  it('lets one failing listener fail alone', () => {
    const bus = new EventBus<{ tick: number }>(silentLogger());
    const seen: number[] = [];
    bus.on('tick', 'broken', () => {
      throw new Error('boom');
    });
    bus.on('tick', 'healthy', (n) => seen.push(n));
    bus.emit('tick', 7);
    expect(seen).toEqual([7]);
  });

  it('unsubscribes', () => {
    const bus = new EventBus<{ tick: number }>();
    const seen: number[] = [];
    const off = bus.on('tick', 'l', (n) => seen.push(n));
    bus.emit('tick', 1);
    off();
    bus.emit('tick', 2);
    expect(seen).toEqual([1]);
    expect(bus.listenerCount('tick')).toBe(0);
  });
});
