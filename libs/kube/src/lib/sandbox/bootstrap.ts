import { ApiError } from './api-status';
import type { StoredObject } from './object-meta';
import type { ResourceRegistry } from './resource-registry';
import type { ApiStorage } from './storage';

/**
 * What a fresh kube-apiserver 1.20 has before anyone writes (the system namespaces and the
 * `kubernetes` service), plus Multus' NetworkAttachmentDefinition CRD, which the real test bench
 * installs into every cluster (tools/kube-bench/network-attachment-definition.crd.yaml).
 */

const APISERVER = { manager: 'kube-apiserver' };

export const NETWORK_ATTACHMENT_DEFINITION_CRD: StoredObject = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'network-attachment-definitions.k8s.cni.cncf.io' },
  spec: {
    group: 'k8s.cni.cncf.io',
    scope: 'Namespaced',
    names: {
      plural: 'network-attachment-definitions',
      singular: 'network-attachment-definition',
      kind: 'NetworkAttachmentDefinition',
      shortNames: ['net-attach-def'],
    },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            description:
              'NetworkAttachmentDefinition is a CRD schema specified by the Network Plumbing Working Group to express the intent for attaching pods to one or more logical or physical networks. More information available at: https://github.com/k8snetworkplumbingwg/multi-net-spec',
            type: 'object',
            properties: {
              apiVersion: { type: 'string' },
              kind: { type: 'string' },
              metadata: { type: 'object' },
              spec: {
                description:
                  'NetworkAttachmentDefinition spec defines the desired state of a network attachment',
                type: 'object',
                properties: {
                  config: {
                    description: 'NetworkAttachmentDefinition config is a JSON-formatted CNI configuration',
                    type: 'string',
                  },
                },
                'x-kubernetes-preserve-unknown-fields': true,
              },
            },
          },
        },
      },
    ],
  },
};

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

function createIfMissing(
  storage: ApiStorage,
  registry: ResourceRegistry,
  typeId: string,
  object: StoredObject,
): void {
  const type = registry.byId(typeId);
  if (!type) return;
  if (storage.find(type, object.metadata.namespace ?? '', object.metadata.name ?? '')) return;
  try {
    storage.create(type, object.metadata.namespace, object, APISERVER);
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== 409) throw error;
  }
}

export function bootstrap(
  storage: ApiStorage,
  registry: ResourceRegistry,
  crds: readonly StoredObject[],
): void {
  for (const name of SYSTEM_NAMESPACES) {
    createIfMissing(storage, registry, '/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name },
    });
  }
  createIfMissing(storage, registry, '/services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { component: 'apiserver', provider: 'kubernetes' },
    },
    spec: {
      clusterIP: '10.96.0.1',
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }],
      sessionAffinity: 'None',
      type: 'ClusterIP',
    },
  });
  for (const crd of crds)
    createIfMissing(storage, registry, 'apiextensions.k8s.io/customresourcedefinitions', crd);
}
