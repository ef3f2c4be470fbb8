// The steps held back, kept in the DAG's order as they come and go, so that filling free slots
// takes the first ones without sorting every held step on every event (a wide run can hold
// thousands behind the lease bound). PURE.

export class HeldSteps {
  /** Names sorted by position; `positions` says where each one sorts. */
  private readonly names: string[] = [];
  private readonly positions = new Map<string, number>();

  get size(): number {
    return this.names.length;
  }

  has(name: string): boolean {
    return this.positions.has(name);
  }

  add(name: string, position: number): void {
    if (this.positions.has(name)) return;
    this.positions.set(name, position);
    // Steps mostly become held in the DAG's order: the search usually ends at the last place.
    this.names.splice(this.after(position), 0, name);
  }

  delete(name: string): void {
    const position = this.positions.get(name);
    if (position === undefined) return;
    for (let i = this.after(position) - 1; i >= 0; i--) {
      if (this.names[i] === name) {
        this.names.splice(i, 1);
        break;
      }
    }
    this.positions.delete(name);
  }

  /** The held step at `i` in the DAG's order. */
  at(i: number): string | undefined {
    return this.names[i];
  }

  /** The first index whose position is greater than `position`. */
  private after(position: number): number {
    let lo = 0;
    let hi = this.names.length;
    if (hi > 0 && this.positionAt(hi - 1) <= position) return hi;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.positionAt(mid) <= position) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private positionAt(i: number): number {
    return this.positions.get(this.names[i] as string) ?? 0;
  }
}
