/**
 * The runner's schedule (firmware-sim/runner.ts): what falls due next, as a binary heap ordered by due
 * time and, at equal times, by the order events were scheduled in.
 */

export type EventKind = 'sensor' | 'substation' | 'observation' | 'forecast';
export interface SimEvent {
  due: number;
  order: number;
  kind: EventKind;
  index: number;
}

export class EventQueue {
  private heap: SimEvent[] = [];

  /** The earliest event, without removing it. */
  peek(): SimEvent | undefined {
    return this.heap[0];
  }

  push(ev: SimEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

const before = (a: SimEvent, b: SimEvent): boolean => a.due < b.due || (a.due === b.due && a.order < b.order);
