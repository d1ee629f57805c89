export { SandboxCluster, type SandboxClusterOptions } from './sandbox-cluster';
export { NETWORK_ATTACHMENT_DEFINITION_CRD } from './bootstrap';
