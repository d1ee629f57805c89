/**
 * The contract suite must be able to catch a sandbox that drifts from the real API server: run the
 * conflict case against a sandbox that wrongly answers 200 to a conflicting create, and see it fail.
 */
import { kubeContractCases } from './contract/cases';
import { type KubeTarget, sandboxTarget } from './targets';

describe('contract suite catches sandbox drift', () => {
  let wrong: KubeTarget;
  beforeAll(async () => {
    wrong = await sandboxTarget({ sandbox: { faults: { acceptConflictingCreate: true } } });
  });
  afterAll(() => wrong?.stop());

  it('fails the "create conflict" case when the sandbox answers 200 to a conflicting create', async () => {
    const conflictCase = kubeContractCases.find((c) =>
      c.name.startsWith('create of an existing object is a conflict'),
    )!;
    // The case's `expect(second).rejects…` fails: the wrong sandbox resolved the conflicting create.
    await expect(conflictCase.run(wrong)).rejects.toThrow('Received promise resolved instead of rejected');
  });

  it('still passes the cases the fault does not touch (the failure above is the fault, not the harness)', async () => {
    await kubeContractCases.find((c) => c.name.startsWith('create returns the stored object'))!.run(wrong);
  });
});
