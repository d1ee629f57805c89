/**
 * The Kubernetes contract (issue #3) against the sandbox cluster and the real kube-apiserver bench:
 * the same cases, so the sandbox used by `npm start` and unit tests behaves like the real thing.
 */
import { kubeContractCases } from './contract/cases';
import { type KubeTarget, realBenchTarget, sandboxTarget } from './targets';

describe.each([
  ['sandbox cluster', sandboxTarget],
  ['real kube-apiserver 1.20 bench', realBenchTarget],
])('Kubernetes contract on the %s', (_name, start) => {
  let target: KubeTarget;
  beforeAll(async () => {
    target = await start();
  }, 60_000);
  afterAll(async () => {
    await target?.stop();
  });
  afterEach(() => {
    // The simulator acts in the background; anything it could not do is a failure of the case.
    expect(target.simulator.problems).toEqual([]);
  });

  it.each(kubeContractCases.map((c) => [c.name, c]))('%s', async (_case, contractCase) => {
    await contractCase.run(target);
  });
});
