// A run's step table, changed in place without a copy per event, while every earlier state still
// reads as it was (the engine never changes the state it was given). PURE.
//
// Baker's technique for persistent arrays: the newest state owns the real record; when an event
// makes a newer one, the state it was given gets a read-only view instead, which answers from
// the event's undo entries (each step's value before the event) and defers the rest to the next
// version. Reading the state just before (what the RunObject diffs against) costs one lookup
// per step; an older one walks the versions in between. An event on an older state copies it
// first, so branching stays correct, only slower.
import type { StepState } from "./types";

type Steps = Record<string, StepState>;

/** Marks a step the event added (it did not exist before). */
const ABSENT = Symbol("absent");
type Undo = Map<string, StepState | typeof ABSENT>;

interface View {
  undo: Undo;
  /**
   * The state of the next version: its table is the real record until an event moves on from
   * it, then a view itself (so it is read through the state, each time).
   */
  next: { steps: Steps };
  /** The whole table at this version, built on first need (a version never changes). */
  whole?: Steps;
}

/** Views by their proxy, to tell a view from a real record. */
const views = new WeakMap<object, View>();

function read(steps: Steps, name: string): StepState | undefined {
  let at: Steps = steps;
  for (let v = views.get(at); v; v = views.get(at)) {
    const old = v.undo.get(name);
    if (old === ABSENT) return undefined;
    if (old !== undefined) return old;
    at = v.next.steps;
  }
  return Object.hasOwn(at, name) ? at[name] : undefined;
}

function whole(view: View): Steps {
  if (view.whole) return view.whole;
  const next = views.get(view.next.steps);
  const base: Steps = next ? whole(next) : view.next.steps;
  const out: Steps = {};
  for (const name in base) if (!view.undo.has(name)) out[name] = base[name] as StepState;
  for (const [name, old] of view.undo) if (old !== ABSENT) out[name] = old;
  view.whole = out;
  return out;
}

function viewOf(view: View): Steps {
  const readOnly = () => {
    throw new TypeError("a run state the engine has moved on from is read-only");
  };
  const proxy = new Proxy({} as Steps, {
    get: (_t, key) => (typeof key === "string" ? read(proxy, key) : undefined),
    has: (_t, key) => typeof key === "string" && Object.hasOwn(whole(view), key),
    ownKeys: () => Object.keys(whole(view)),
    getOwnPropertyDescriptor: (_t, key) => {
      const all = whole(view);
      if (typeof key !== "string" || !Object.hasOwn(all, key)) return undefined;
      return { value: all[key], writable: false, enumerable: true, configurable: true };
    },
    set: readOnly,
    defineProperty: readOnly,
    deleteProperty: readOnly,
  });
  views.set(proxy, view);
  return proxy;
}

/** One event's writes to the step table. */
export class StepTable {
  readonly record: Steps;
  private readonly undo: Undo = new Map();

  constructor(given: Steps) {
    const view = views.get(given);
    // An older state: its table is copied, and the newest state keeps the real record.
    this.record = view ? { ...whole(view) } : given;
  }

  set(s: StepState): void {
    if (!this.undo.has(s.name))
      this.undo.set(s.name, Object.hasOwn(this.record, s.name) ? (this.record[s.name] as StepState) : ABSENT);
    this.record[s.name] = s;
  }

  /** The steps this event wrote (added or replaced). */
  written(): string[] {
    return [...this.undo.keys()];
  }

  /** The event is applied: the given table becomes a view of the version before `next`. */
  commit(next: { steps: Steps }): Steps {
    return viewOf({ undo: this.undo, next });
  }

  /** The event failed: the record is put back as it was. */
  rollback(): void {
    for (const [name, old] of this.undo) {
      if (old === ABSENT) delete this.record[name];
      else this.record[name] = old;
    }
    this.undo.clear();
  }
}
