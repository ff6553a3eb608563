// A binary min-heap of timers keyed by due time, with O(log n) update and removal: each item
// remembers its index, so re-arming one (rule, device) timer never scans the others.

export interface HeapItem {
  timerAt: number;
  heapIdx: number;
}

export class TimerHeap<T extends HeapItem> {
  private items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** Sets the item's due time (Infinity = no timer) and places it accordingly. */
  set(item: T, at: number): void {
    if (at === Infinity || Number.isNaN(at)) return this.remove(item);
    item.timerAt = at;
    if (item.heapIdx < 0) {
      item.heapIdx = this.items.length;
      this.items.push(item);
    }
    this.up(item.heapIdx);
    this.down(item.heapIdx);
  }

  remove(item: T): void {
    item.timerAt = Infinity;
    const i = item.heapIdx;
    if (i < 0) return;
    item.heapIdx = -1;
    const last = this.items.pop()!;
    if (i < this.items.length) {
      this.items[i] = last;
      last.heapIdx = i;
      this.up(i);
      this.down(i);
    }
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top) this.remove(top);
    return top;
  }

  private up(i: number): void {
    const a = this.items;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p].timerAt <= a[i].timerAt) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const a = this.items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && a[l].timerAt < a[m].timerAt) m = l;
      if (r < a.length && a[r].timerAt < a[m].timerAt) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(i: number, j: number): void {
    const a = this.items;
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
    a[i].heapIdx = i;
    a[j].heapIdx = j;
  }
}
