import { UnitGraph, UnitGraphError } from './unit-graph';

const u = (name: string, ...dependsOn: string[]) => ({ name, dependsOn });
const names = (units: readonly { name: string }[]) => units.map((unit) => unit.name);
const waves = (graph: UnitGraph) => graph.waves.map(names);
const refusal = (units: Array<{ name: string; dependsOn: string[] }>) => {
  try {
    UnitGraph.of(units);
  } catch (error) {
    expect(error).toBeInstanceOf(UnitGraphError);
    return error as UnitGraphError;
  }
  throw new Error('the graph was accepted');
};

describe('unit graph (R-OR-4)', () => {
  it('puts units without dependencies in the first wave, in the order given', () => {
    const graph = UnitGraph.of([u('web'), u('api'), u('db')]);
    expect(waves(graph)).toEqual([['web', 'api', 'db']]);
    expect(names(graph.order)).toEqual(['web', 'api', 'db']);
  });

  it('orders a chain one unit per wave, and deletes it the other way', () => {
    const graph = UnitGraph.of([u('web', 'api'), u('api', 'db'), u('db')]);
    expect(waves(graph)).toEqual([['db'], ['api'], ['web']]);
    expect(names(graph.order)).toEqual(['db', 'api', 'web']);
    expect(names(graph.deletionOrder())).toEqual(['web', 'api', 'db']);
    expect(graph.deletionWaves().map(names)).toEqual([['web'], ['api'], ['db']]);
  });

  it('places a unit after the longest chain it depends on (diamond)', () => {
    const graph = UnitGraph.of([
      u('web', 'api', 'cache'),
      u('api', 'db'),
      u('cache'),
      u('db'),
      u('worker', 'db'),
    ]);
    expect(waves(graph)).toEqual([['cache', 'db'], ['api', 'worker'], ['web']]);
    expect(graph.wave('web')).toBe(2);
    expect(graph.wave('cache')).toBe(0);
  });

  it('gives every unit a place after all its dependencies in the order', () => {
    const units = [u('f', 'e', 'a'), u('e', 'd'), u('d', 'b', 'c'), u('c', 'a'), u('b', 'a'), u('a'), u('g')];
    const order = names(UnitGraph.of(units).order);
    for (const unit of units) {
      for (const dep of unit.dependsOn) expect(order.indexOf(dep)).toBeLessThan(order.indexOf(unit.name));
    }
    expect(order).toHaveLength(units.length);
  });

  it('ignores a dependency named twice', () => {
    expect(waves(UnitGraph.of([u('api', 'db', 'db'), u('db')]))).toEqual([['db'], ['api']]);
  });

  it('restricts deletion waves to the units asked for, keeping their relative order', () => {
    const graph = UnitGraph.of([u('web', 'api'), u('api', 'db'), u('db'), u('batch', 'db')]);
    expect(graph.deletionWaves(new Set(['web', 'db'])).map(names)).toEqual([['web'], ['db']]);
    expect(graph.deletionWaves(new Set(['batch', 'api'])).map(names)).toEqual([['batch', 'api']]);
    expect(graph.deletionWaves(new Set())).toEqual([]);
  });

  it('handles an empty stack and a long chain', () => {
    expect(UnitGraph.of([]).waves).toEqual([]);
    const chain = Array.from({ length: 2_000 }, (_, i) => (i === 0 ? u('s0') : u(`s${i}`, `s${i - 1}`)));
    const graph = UnitGraph.of([...chain].reverse());
    expect(graph.waves).toHaveLength(2_000);
    expect(graph.order[0].name).toBe('s0');
  });

  it('refuses a dependency on a unit that does not exist, naming it', () => {
    const error = refusal([u('api', 'db'), u('web', 'api', 'cache')]);
    expect(error.problem).toBe('unknown-dependency');
    expect(error.units).toEqual(['db', 'cache']);
    expect(error.message).toBe('unit api depends on unknown unit db; unit web depends on unknown unit cache');
  });

  it('refuses a cycle, listing it', () => {
    const error = refusal([u('web', 'api'), u('api', 'db'), u('db', 'web'), u('other')]);
    expect(error.problem).toBe('cycle');
    expect(error.units).toEqual(['web', 'api', 'db', 'web']);
    expect(error.message).toBe('units depend on each other in a cycle: web → api → db → web');
  });

  it('lists only the cycle, not the path that led to it', () => {
    const error = refusal([u('web', 'api'), u('api', 'db'), u('db', 'cache'), u('cache', 'db')]);
    expect(error.units).toEqual(['db', 'cache', 'db']);
  });

  it('refuses a unit depending on itself', () => {
    const error = refusal([u('api', 'api')]);
    expect(error.problem).toBe('cycle');
    expect(error.units).toEqual(['api', 'api']);
  });

  it('refuses duplicate unit names', () => {
    const error = refusal([u('api'), u('db'), u('api')]);
    expect(error.problem).toBe('duplicate-unit');
    expect(error.units).toEqual(['api']);
  });

  it('says so when asked for the wave of a unit it does not have', () => {
    expect(() => UnitGraph.of([u('a')]).wave('b')).toThrow('no unit b in the graph');
  });
});
