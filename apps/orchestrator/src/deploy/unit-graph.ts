/**
 * The dependency graph of a stack's units (R-OR-4): validated, ordered so that a unit comes after
 * everything it depends on, and grouped in waves — a wave holds the units whose dependencies are all
 * in earlier waves, so the units of one wave can be deployed together once the previous wave is up.
 * Deletion goes the other way: dependents first. Plain functions, no I/O.
 */

export interface GraphUnit {
  name: string;
  dependsOn: readonly string[];
}

export type UnitGraphProblem = 'duplicate-unit' | 'unknown-dependency' | 'cycle';

/** Why a set of units is not a deployable graph; `units` names the units involved, in order. */
export class UnitGraphError extends Error {
  constructor(
    readonly problem: UnitGraphProblem,
    readonly units: string[],
    message: string,
  ) {
    super(message);
    this.name = 'UnitGraphError';
  }
}

export class UnitGraph<U extends GraphUnit = GraphUnit> {
  /** Units in dependency order (each after all it depends on), the input order kept where free. */
  readonly order: readonly U[];
  /** Wave i holds the units whose longest dependency chain has length i. */
  readonly waves: readonly (readonly U[])[];
  private readonly waveOf = new Map<string, number>();
  private readonly byName = new Map<string, U>();

  private constructor(units: readonly U[]) {
    for (const unit of units) this.byName.set(unit.name, unit);
    const waves: U[][] = [];
    const depth = (unit: U): number => {
      const known = this.waveOf.get(unit.name);
      if (known !== undefined) return known;
      const wave = unit.dependsOn.reduce((max, dep) => Math.max(max, depth(this.byName.get(dep)!) + 1), 0);
      this.waveOf.set(unit.name, wave);
      return wave;
    };
    for (const unit of units) depth(unit);
    for (const unit of units) (waves[this.waveOf.get(unit.name)!] ??= []).push(unit);
    this.waves = waves;
    this.order = waves.flat();
  }

  /** Validates the units (unique names, known dependencies, no cycle) and builds the graph. */
  static of<U extends GraphUnit>(units: readonly U[]): UnitGraph<U> {
    const names = new Set<string>();
    const duplicates = new Set<string>();
    for (const unit of units) (names.has(unit.name) ? duplicates : names).add(unit.name);
    if (duplicates.size) {
      const list = [...duplicates];
      throw new UnitGraphError('duplicate-unit', list, `unit names must be unique: ${list.join(', ')}`);
    }
    const unknown = units.flatMap((unit) =>
      [...new Set(unit.dependsOn)].filter((dep) => !names.has(dep)).map((dep) => ({ unit: unit.name, dep })),
    );
    if (unknown.length) {
      throw new UnitGraphError(
        'unknown-dependency',
        [...new Set(unknown.map((u) => u.dep))],
        unknown.map((u) => `unit ${u.unit} depends on unknown unit ${u.dep}`).join('; '),
      );
    }
    const cycle = findCycle(units);
    if (cycle) {
      throw new UnitGraphError('cycle', cycle, `units depend on each other in a cycle: ${cycle.join(' → ')}`);
    }
    return new UnitGraph(units);
  }

  get(name: string): U | undefined {
    return this.byName.get(name);
  }

  /** The wave a unit is deployed in. */
  wave(name: string): number {
    const wave = this.waveOf.get(name);
    if (wave === undefined) throw new Error(`no unit ${name} in the graph`);
    return wave;
  }

  /** Waves for deletion: dependents before what they depend on (last wave first, reversed inside). */
  deletionWaves(only?: ReadonlySet<string>): U[][] {
    return [...this.waves]
      .reverse()
      .map((wave) => [...wave].reverse().filter((unit) => !only || only.has(unit.name)))
      .filter((wave) => wave.length > 0);
  }

  /** The units in deletion order. */
  deletionOrder(only?: ReadonlySet<string>): U[] {
    return this.deletionWaves(only).flat();
  }
}

/** A dependency cycle as `[a, b, …, a]`, or undefined. Iterative DFS: deep graphs do not overflow. */
function findCycle(units: readonly GraphUnit[]): string[] | undefined {
  const byName = new Map(units.map((u) => [u.name, u]));
  const state = new Map<string, 'open' | 'done'>();
  for (const root of units) {
    if (state.has(root.name)) continue;
    const path: string[] = [];
    const stack: Array<{ name: string; next: number }> = [{ name: root.name, next: 0 }];
    state.set(root.name, 'open');
    path.push(root.name);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const deps = byName.get(top.name)!.dependsOn;
      if (top.next >= deps.length) {
        state.set(top.name, 'done');
        stack.pop();
        path.pop();
        continue;
      }
      const dep = deps[top.next++];
      const seen = state.get(dep);
      if (seen === 'open') return [...path.slice(path.indexOf(dep)), dep];
      if (seen === 'done') continue;
      state.set(dep, 'open');
      path.push(dep);
      stack.push({ name: dep, next: 0 });
    }
  }
  return undefined;
}
