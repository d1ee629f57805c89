import { isObject, type JsonObject } from './json';

/**
 * Just enough of the Kubernetes OpenAPI schema for patching and field ownership: which lists merge
 * by key (containers by name, ports by port+protocol, conditions by type), which objects are maps
 * with free keys (labels, data) rather than structs, and which values are atomic (label selectors).
 * Everything not described is a struct and every list not described is atomic, as in the real
 * server's deduced schema.
 */

export type ListType =
  | { type: 'atomic' }
  | { type: 'set' }
  | { type: 'map'; keys: readonly string[]; keyDefaults?: Readonly<Record<string, unknown>> };

export interface SchemaNode {
  /** For object values: a struct (declared fields), a map (free keys) or atomic (replaced whole). */
  readonly shape?: 'struct' | 'map' | 'atomic';
  readonly fields?: Readonly<Record<string, SchemaNode>>;
  /** Map values or list items. */
  readonly element?: SchemaNode;
  /** For array values. */
  readonly list?: ListType;
  /** Strategic-merge key when it differs from the first list-map key (container ports). */
  readonly patchMergeKey?: string;
  /** Custom resources: unknown fields are pruned unless this is set (x-kubernetes-preserve-unknown-fields). */
  readonly preserveUnknown?: boolean;
  /**
   * A pointer struct in the Go type: absent in the zero value, so when it appears in an update it
   * is a member itself (`"."` in managedFields), unlike plain structs.
   */
  readonly pointer?: boolean;
  /** Custom resources: this node came from a declared schema (pruning applies). */
  readonly declared?: boolean;
}

export const UNKNOWN: SchemaNode = {};

export function fieldOf(node: SchemaNode, name: string): SchemaNode {
  const declared = node.fields?.[name];
  if (declared) return declared;
  if (node.shape === 'map' && node.element) return node.element;
  return UNKNOWN;
}

export function elementOf(node: SchemaNode): SchemaNode {
  return node.element ?? UNKNOWN;
}

export function listTypeOf(node: SchemaNode): ListType {
  return node.list ?? { type: 'atomic' };
}

/** True when a key of this object is a free map key rather than a declared struct field. */
export function isMapKey(node: SchemaNode, name: string): boolean {
  return node.shape === 'map' && !node.fields?.[name];
}

// ---- built-in kinds --------------------------------------------------------------------------

const ATOMIC: SchemaNode = { shape: 'atomic' };
const STRING_MAP: SchemaNode = { shape: 'map' };

function keyed(
  keys: string[],
  element: SchemaNode = UNKNOWN,
  keyDefaults?: Record<string, unknown>,
  patchMergeKey?: string,
): SchemaNode {
  return { list: { type: 'map', keys, keyDefaults }, element, patchMergeKey };
}

const CONDITIONS = keyed(['type']);

const OBJECT_META: SchemaNode = {
  fields: {
    labels: STRING_MAP,
    annotations: STRING_MAP,
    ownerReferences: keyed(['uid']),
    finalizers: { list: { type: 'set' } },
  },
};

const RESOURCES: SchemaNode = { fields: { limits: STRING_MAP, requests: STRING_MAP } };

const CONTAINER: SchemaNode = {
  fields: {
    env: keyed(['name']),
    ports: keyed(['containerPort', 'protocol'], UNKNOWN, { protocol: 'TCP' }, 'containerPort'),
    volumeMounts: keyed(['mountPath']),
    volumeDevices: keyed(['devicePath']),
    resources: RESOURCES,
  },
};

const POD_SPEC: SchemaNode = {
  fields: {
    containers: keyed(['name'], CONTAINER),
    initContainers: keyed(['name'], CONTAINER),
    ephemeralContainers: keyed(['name'], CONTAINER),
    volumes: keyed(['name']),
    imagePullSecrets: keyed(['name']),
    hostAliases: keyed(['ip']),
    topologySpreadConstraints: keyed(['topologyKey', 'whenUnsatisfiable']),
    nodeSelector: STRING_MAP,
    overhead: STRING_MAP,
    affinity: {
      fields: { nodeAffinity: { fields: { requiredDuringSchedulingIgnoredDuringExecution: ATOMIC } } },
    },
  },
};

const POD_TEMPLATE: SchemaNode = { fields: { metadata: OBJECT_META, spec: POD_SPEC } };

const ROLLING: SchemaNode = { fields: { rollingUpdate: { pointer: true } } };

const WORKLOAD: SchemaNode = {
  fields: {
    metadata: OBJECT_META,
    spec: {
      fields: { selector: ATOMIC, template: POD_TEMPLATE, strategy: ROLLING, updateStrategy: ROLLING },
    },
    status: { fields: { conditions: CONDITIONS } },
  },
};

function withMeta(fields: Record<string, SchemaNode>): SchemaNode {
  return { fields: { metadata: OBJECT_META, ...fields } };
}

const BUILT_IN_SCHEMAS: Record<string, SchemaNode> = {
  '/pods': withMeta({
    spec: POD_SPEC,
    status: { fields: { conditions: CONDITIONS, podIPs: keyed(['ip']) } },
  }),
  'apps/deployments': WORKLOAD,
  'apps/replicasets': WORKLOAD,
  'apps/daemonsets': WORKLOAD,
  'apps/statefulsets': WORKLOAD,
  'batch/jobs': WORKLOAD,
  '/services': withMeta({
    spec: {
      fields: {
        ports: keyed(['port', 'protocol'], UNKNOWN, { protocol: 'TCP' }, 'port'),
        selector: STRING_MAP,
      },
    },
    status: { fields: { conditions: CONDITIONS } },
  }),
  '/configmaps': withMeta({ data: STRING_MAP, binaryData: STRING_MAP }),
  '/secrets': withMeta({ data: STRING_MAP, stringData: STRING_MAP }),
  '/nodes': withMeta({
    status: {
      fields: {
        conditions: CONDITIONS,
        addresses: keyed(['type']),
        capacity: STRING_MAP,
        allocatable: STRING_MAP,
      },
    },
  }),
  '/namespaces': withMeta({ status: { fields: { conditions: CONDITIONS } } }),
  '/resourcequotas': withMeta({
    spec: { fields: { hard: STRING_MAP } },
    status: { fields: { hard: STRING_MAP, used: STRING_MAP } },
  }),
  '/persistentvolumeclaims': withMeta({
    spec: { fields: { resources: RESOURCES, selector: ATOMIC } },
    status: { fields: { capacity: STRING_MAP, conditions: CONDITIONS } },
  }),
  '/persistentvolumes': withMeta({ spec: { fields: { capacity: STRING_MAP } } }),
  'storage.k8s.io/storageclasses': withMeta({ parameters: STRING_MAP }),
  'storage.k8s.io/csidrivers': withMeta({
    spec: { fields: { volumeLifecycleModes: { list: { type: 'set' } } } },
  }),
  'networking.k8s.io/networkpolicies': withMeta({ spec: { fields: { podSelector: ATOMIC } } }),
  // CRD conditions are an atomic list in 1.20; spec.conversion is a pointer.
  'apiextensions.k8s.io/customresourcedefinitions': withMeta({
    spec: { fields: { conversion: { pointer: true } } },
  }),
};

const DEFAULT_OBJECT = withMeta({});

export function builtInSchema(typeId: string): SchemaNode {
  return BUILT_IN_SCHEMAS[typeId] ?? DEFAULT_OBJECT;
}

// ---- custom resources ------------------------------------------------------------------------

/**
 * Converts a CRD version's openAPIV3Schema into a SchemaNode: list types and map keys from the
 * x-kubernetes-* extensions, maps from additionalProperties, pruning from declared properties.
 */
export function schemaFromOpenApi(schema: JsonObject | undefined): SchemaNode {
  const root = schema ? convert(schema) : { preserveUnknown: true };
  // metadata is always the standard ObjectMeta whatever the CRD says about it.
  return {
    ...root,
    fields: { ...(root.fields ?? {}), metadata: OBJECT_META },
    declared: schema !== undefined,
  };
}

function convert(schema: JsonObject): SchemaNode {
  const preserveUnknown = schema['x-kubernetes-preserve-unknown-fields'] === true;
  if (schema['type'] === 'array') {
    const listType = schema['x-kubernetes-list-type'];
    const items = isObject(schema['items']) ? convert(schema['items']) : UNKNOWN;
    const keys = Array.isArray(schema['x-kubernetes-list-map-keys'])
      ? schema['x-kubernetes-list-map-keys'].filter((k): k is string => typeof k === 'string')
      : [];
    const list: ListType =
      listType === 'map' && keys.length > 0
        ? { type: 'map', keys }
        : listType === 'set'
          ? { type: 'set' }
          : { type: 'atomic' };
    return { list, element: items, declared: true };
  }
  const properties = isObject(schema['properties']) ? schema['properties'] : undefined;
  const additional = schema['additionalProperties'];
  const atomic = schema['x-kubernetes-map-type'] === 'atomic';
  if (properties) {
    const fields: Record<string, SchemaNode> = {};
    for (const [name, sub] of Object.entries(properties)) if (isObject(sub)) fields[name] = convert(sub);
    return { shape: atomic ? 'atomic' : 'struct', fields, preserveUnknown, declared: true };
  }
  if (isObject(additional) || additional === true) {
    return {
      shape: atomic ? 'atomic' : 'map',
      element: isObject(additional) ? convert(additional) : { preserveUnknown: true },
      preserveUnknown: true,
      declared: true,
    };
  }
  if (schema['type'] === 'object') {
    // An object without declared properties keeps nothing unless it preserves unknown fields.
    return { shape: atomic ? 'atomic' : 'struct', fields: {}, preserveUnknown, declared: true };
  }
  return {
    preserveUnknown: preserveUnknown || schema['x-kubernetes-int-or-string'] === true,
    declared: true,
  };
}

/**
 * Drops fields a structural schema does not declare, like the real server does for custom
 * resources (silently, no error).
 */
export function prune(value: unknown, node: SchemaNode): unknown {
  if (Array.isArray(value)) return value.map((item) => prune(item, elementOf(node)));
  if (!isObject(value) || node.preserveUnknown || !node.declared) return value;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    if (node.shape === 'map') out[key] = prune(child, fieldOf(node, key));
    else if (node.fields?.[key]) out[key] = prune(child, node.fields[key]);
  }
  return out;
}

/**
 * The first field of an applied configuration that a structural schema does not declare, as the
 * real server names it (`.spec.junk`): server-side apply refuses those instead of pruning them.
 */
export function undeclaredField(value: unknown, node: SchemaNode, path = ''): string | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = undeclaredField(item, elementOf(node), path);
      if (found) return found;
    }
    return undefined;
  }
  if (!isObject(value) || node.preserveUnknown || !node.declared || node.shape === 'atomic') return undefined;
  for (const [key, child] of Object.entries(value)) {
    const declared = node.shape === 'map' ? fieldOf(node, key) : node.fields?.[key];
    if (!declared) return `${path}.${key}`;
    const found = undeclaredField(child, declared, `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}
