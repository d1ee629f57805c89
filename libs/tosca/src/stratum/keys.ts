// The names the Stratum translator writes into Kubernetes objects, fixed here because other
// components read them: the log-shipper (R-LG-3), the IPAM that hands out fixed addresses
// (R-NW-1, seed 000), the orchestrator's selectors. Documented in docs/tosca-profile.md.

export const STRATUM_PROFILE = 'stratum-profile-1.0.yaml';

export const STRATUM_TYPES = {
  microservice: 'stratum.nodes.Microservice',
  autoscaling: 'stratum.policies.scaling.Autoscaling',
} as const;

/** Normative relationship types whose requirements order the deployment (R-OR-4). */
export const ORDERING_RELATIONSHIPS = ['tosca.relationships.DependsOn', 'tosca.relationships.ConnectsTo'];
export const CONNECTS_TO = 'tosca.relationships.ConnectsTo';

/** Labels on every object of a microservice (Deployment, its pods, Service). */
export const STRATUM_LABELS = {
  name: 'app.kubernetes.io/name',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
  /** The stack; with `service`, the selector of the Deployment and the Service. */
  stack: 'stratum.io/stack',
  /** The microservice (node template) name. */
  service: 'stratum.io/service',
  /** On pods only, "true" when the microservice declares log_files (R-LG-3): the log-shipper's filter. */
  appLogs: 'stratum.io/app-logs',
} as const;

export const MANAGED_BY = 'stratum';

/** Pod annotations. */
export const STRATUM_ANNOTATIONS = {
  /**
   * R-LG-3: canonical JSON (keys sorted, no spaces) of a list of
   * { directory, extension, multilinePattern?, volume, subPath? } — one entry per log_files entry, in
   * template order. `volume` is the pod volume holding the directory, `subPath` the directory
   * relative to that volume's mount point (absent when it is the mount point itself).
   */
  logFiles: 'stratum.io/log-files',
  /**
   * R-NW-1 (seed 000): comma-separated addresses on the tenant network; each pod of the Deployment
   * gets the first one of the list that is free in the network's pool (the Multus `ips` field
   * would give every replica the same address).
   */
  fixedIps: 'stratum.io/fixed-ips',
} as const;

/** The Multus pod annotation selecting the environment's NetworkAttachmentDefinition (R-NW-1). */
export const MULTUS_NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks';

export const RESERVED_KEY_PREFIX = 'stratum.io/';

export const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
