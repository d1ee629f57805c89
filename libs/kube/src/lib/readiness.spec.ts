import { deploymentReadiness, podReadiness, statefulSetReadiness } from './readiness';

const deployment = (spec: number, status: Record<string, unknown>, generation = 2) => ({
  kind: 'Deployment',
  metadata: { generation },
  spec: { replicas: spec },
  status: { observedGeneration: 2, ...status },
});

describe('workload readiness', () => {
  it('a Deployment is ready only when generation is observed and all replicas are updated and available', () => {
    expect(
      deploymentReadiness(
        deployment(3, { replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 }),
      ),
    ).toEqual({ ready: true, reason: '3 of 3 replicas ready' });
    expect(
      deploymentReadiness(deployment(3, { replicas: 3, updatedReplicas: 3, availableReplicas: 3 }, 3)).reason,
    ).toBe('waiting for the controller to observe generation 3');
    expect(
      deploymentReadiness(deployment(3, { replicas: 4, updatedReplicas: 3, availableReplicas: 3 })).reason,
    ).toBe('1 old replicas pending termination');
    expect(
      deploymentReadiness(deployment(3, { replicas: 3, updatedReplicas: 2, availableReplicas: 3 })).reason,
    ).toBe('2 of 3 replicas updated');
    expect(
      deploymentReadiness(deployment(3, { replicas: 3, updatedReplicas: 3, availableReplicas: 1 })).reason,
    ).toBe('1 of 3 replicas available');
    expect(
      deploymentReadiness(
        deployment(3, {
          conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
        }),
      ).reason,
    ).toBe('rollout stalled: ProgressDeadlineExceeded');
  });

  it('a StatefulSet waits for all ready replicas on the update revision', () => {
    const base = { metadata: { generation: 1 }, spec: { replicas: 2 } };
    expect(
      statefulSetReadiness({
        ...base,
        status: { observedGeneration: 1, readyReplicas: 2, currentRevision: 'a', updateRevision: 'b' },
      }).ready,
    ).toBe(false);
    expect(
      statefulSetReadiness({
        ...base,
        status: { observedGeneration: 1, readyReplicas: 2, currentRevision: 'b', updateRevision: 'b' },
      }).ready,
    ).toBe(true);
  });

  it('a Pod says why it is not ready', () => {
    expect(
      podReadiness({
        status: {
          phase: 'Pending',
          containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ErrImagePull' } } }],
        },
      }).reason,
    ).toBe('container app waiting: ErrImagePull');
    expect(
      podReadiness({ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }).ready,
    ).toBe(true);
  });
});
