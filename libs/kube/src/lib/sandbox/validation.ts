import { cause, type StatusCause } from './api-status';
import { deepEqual, getArray, getObject, getString, isObject, type JsonObject } from './json';
import type { StoredObject } from './object-meta';
import type { NameRule, ResourceType } from './resource-types';
import { fromLabelSelectorObject, matchesLabels } from './selectors';

/**
 * The subset of kube-apiserver 1.20 validation that callers actually trip over, with the real
 * field paths and messages (checked against a real server): names, labels, workload selectors and
 * templates, pod containers, immutable fields.
 */

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MESSAGE =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const NAME_PART_MESSAGE =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MESSAGE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const CONFIG_KEY_MESSAGE =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

export function validateDnsName(field: string, name: string, rule: NameRule): StatusCause[] {
  const out: StatusCause[] = [];
  switch (rule) {
    case 'subdomain':
      if (name.length > 253) out.push(cause.invalid(field, name, 'must be no more than 253 characters'));
      if (!SUBDOMAIN.test(name)) out.push(cause.invalid(field, name, SUBDOMAIN_MESSAGE));
      break;
    case 'label':
      if (name.length > 63) out.push(cause.invalid(field, name, 'must be no more than 63 characters'));
      if (!LABEL.test(name)) out.push(cause.invalid(field, name, LABEL_MESSAGE));
      break;
    case 'dns1035':
      if (name.length > 63) out.push(cause.invalid(field, name, 'must be no more than 63 characters'));
      if (!DNS1035.test(name)) out.push(cause.invalid(field, name, DNS1035_MESSAGE));
      break;
    case 'pathSegment':
      if (name === '.' || name === '..') out.push(cause.invalid(field, name, `may not be '${name}'`));
      for (const bad of ['/', '%'])
        if (name.includes(bad)) out.push(cause.invalid(field, name, `may not contain '${bad}'`));
      break;
  }
  return out;
}

function validateQualifiedKey(field: string, key: string): StatusCause[] {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const out: StatusCause[] = [];
  if (prefix !== undefined) {
    if (prefix.length === 0) out.push(cause.invalid(field, key, 'prefix part must be non-empty'));
    else if (prefix.length > 253 || !SUBDOMAIN.test(prefix))
      out.push(cause.invalid(field, key, `prefix part ${SUBDOMAIN_MESSAGE}`));
  }
  if (name.length === 0) out.push(cause.invalid(field, key, 'name part must be non-empty'));
  else {
    if (name.length > 63) out.push(cause.invalid(field, key, 'name part must be no more than 63 characters'));
    if (!QUALIFIED_NAME_PART.test(name)) out.push(cause.invalid(field, key, NAME_PART_MESSAGE));
  }
  return out;
}

export function validateLabels(field: string, labels: unknown): StatusCause[] {
  if (!isObject(labels)) return [];
  const out: StatusCause[] = [];
  for (const [key, value] of Object.entries(labels)) {
    out.push(...validateQualifiedKey(field, key));
    const text = typeof value === 'string' ? value : String(value);
    if (text.length > 63) out.push(cause.invalid(field, text, 'must be no more than 63 characters'));
    if (!LABEL_VALUE.test(text)) out.push(cause.invalid(field, text, LABEL_VALUE_MESSAGE));
  }
  return out;
}

function validateMetadata(type: ResourceType, object: StoredObject): StatusCause[] {
  const meta = object.metadata;
  const out: StatusCause[] = [];
  if (!meta.name) out.push(cause.required('metadata.name', 'name or generateName is required'));
  else out.push(...validateDnsName('metadata.name', meta.name, type.names));
  out.push(...validateLabels('metadata.labels', meta.labels));
  if (isObject(meta.annotations)) {
    for (const key of Object.keys(meta.annotations))
      out.push(...validateQualifiedKey('metadata.annotations', key));
  }
  return out;
}

// ---- pods and templates ----------------------------------------------------------------------

function validateContainers(path: string, containers: unknown, required: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  if (!Array.isArray(containers) || containers.length === 0) {
    if (required) out.push(cause.required(path));
    return out;
  }
  const seen = new Set<string>();
  containers.forEach((container, i) => {
    const at = `${path}[${i}]`;
    const name = getString(container, ['name']);
    if (!name) out.push(cause.required(`${at}.name`));
    else {
      out.push(...validateDnsName(`${at}.name`, name, 'label'));
      if (seen.has(name)) out.push(cause.duplicate(`${at}.name`, name));
      seen.add(name);
    }
    const image = getString(container, ['image']);
    if (!image || image.trim() === '') out.push(cause.required(`${at}.image`));
  });
  return out;
}

function validatePodSpec(path: string, spec: unknown): StatusCause[] {
  return [
    ...validateContainers(`${path}.containers`, getArray(spec, ['containers']), true),
    ...validateContainers(`${path}.initContainers`, getArray(spec, ['initContainers']), false),
  ];
}

function validateWorkload(type: ResourceType, object: StoredObject): StatusCause[] {
  const out: StatusCause[] = [];
  const spec = getObject(object, ['spec']) ?? {};
  const replicas = spec['replicas'];
  if (type.kind !== 'DaemonSet' && typeof replicas === 'number' && replicas < 0) {
    out.push(cause.invalid('spec.replicas', replicas, 'must be greater than or equal to 0'));
  }
  const selectorObject = spec['selector'];
  const selector = fromLabelSelectorObject(selectorObject);
  if (selectorObject === undefined || selectorObject === null) out.push(cause.required('spec.selector'));
  else if (selector && selector.length === 0) {
    out.push(
      cause.invalid(
        'spec.selector',
        selectorObject,
        `empty selector is invalid for ${type.kind.toLowerCase()}`,
      ),
    );
  }
  const templateLabels = getObject(spec, ['template', 'metadata', 'labels']) ?? {};
  if (
    !selector ||
    (selector.length > 0 && !matchesLabels(selector, templateLabels as Record<string, string>))
  ) {
    out.push(
      cause.invalid(
        'spec.template.metadata.labels',
        templateLabels,
        '`selector` does not match template `labels`',
      ),
    );
  }
  out.push(...validateLabels('spec.template.metadata.labels', templateLabels));
  out.push(...validatePodSpec('spec.template.spec', getObject(spec, ['template', 'spec'])));
  return out;
}

// ---- immutability ----------------------------------------------------------------------------

/** `v1.LabelSelector{MatchLabels:map[string]string{"a":"b"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}` */
function goLabelSelector(selector: unknown): string {
  const labels = getObject(selector, ['matchLabels']);
  const labelText = labels
    ? `map[string]string{${Object.keys(labels)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${JSON.stringify(labels[k])}`)
        .join(', ')}}`
    : 'map[string]string(nil)';
  const expressions = getArray(selector, ['matchExpressions']);
  const expressionText =
    expressions && expressions.length > 0
      ? JSON.stringify(expressions)
      : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${labelText}, MatchExpressions:${expressionText}}`;
}

function immutableSelector(object: StoredObject, old: StoredObject): StatusCause[] {
  const now = getObject(object, ['spec'])?.['selector'];
  const before = getObject(old, ['spec'])?.['selector'];
  if (deepEqual(now, before)) return [];
  return [
    {
      reason: 'FieldValueInvalid',
      message: `Invalid value: ${goLabelSelector(now)}: field is immutable`,
      field: 'spec.selector',
    },
  ];
}

/** Pod specs are immutable except container images, activeDeadlineSeconds and added tolerations. */
function podUpdate(object: StoredObject, old: StoredObject): StatusCause[] {
  const strip = (spec: unknown): JsonObject => {
    const copy: JsonObject = isObject(spec) ? structuredClone(spec) : {};
    for (const list of ['containers', 'initContainers']) {
      const containers = copy[list];
      if (Array.isArray(containers)) for (const c of containers) if (isObject(c)) delete c['image'];
    }
    delete copy['activeDeadlineSeconds'];
    delete copy['tolerations'];
    return copy;
  };
  const now = getObject(object, ['spec']);
  const before = getObject(old, ['spec']);
  const tolerationsBefore = getArray(before, ['tolerations']) ?? [];
  const tolerationsNow = getArray(now, ['tolerations']) ?? [];
  const tolerationsOk = tolerationsBefore.every((t) => tolerationsNow.some((n) => deepEqual(n, t)));
  if (deepEqual(strip(now), strip(before)) && tolerationsOk) return [];
  return [
    cause.forbidden(
      'spec',
      'pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds` or `spec.tolerations` (only additions to existing tolerations)',
    ),
  ];
}

function statefulSetUpdate(object: StoredObject, old: StoredObject): StatusCause[] {
  const strip = (spec: unknown): JsonObject => {
    const copy: JsonObject = isObject(spec) ? { ...spec } : {};
    delete copy['replicas'];
    delete copy['template'];
    delete copy['updateStrategy'];
    return copy;
  };
  if (deepEqual(strip(object['spec']), strip(old['spec']))) return [];
  return [
    cause.forbidden(
      'spec',
      "updates to statefulset spec for fields other than 'replicas', 'template', and 'updateStrategy' are forbidden",
    ),
  ];
}

// ---- per kind ----------------------------------------------------------------------------------

function validateCrd(object: StoredObject): StatusCause[] {
  const out: StatusCause[] = [];
  const group = getString(object, ['spec', 'group']) ?? '';
  const plural = getString(object, ['spec', 'names', 'plural']) ?? '';
  const name = object.metadata.name ?? '';
  if (name !== `${plural}.${group}`)
    out.push(cause.invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  if (!group) out.push(cause.required('spec.group'));
  else if (!group.includes('.'))
    out.push(cause.invalid('spec.group', group, 'should be a domain with at least one dot'));
  if (!plural) out.push(cause.required('spec.names.plural'));
  if (!getString(object, ['spec', 'names', 'kind'])) out.push(cause.required('spec.names.kind'));
  const scope = getString(object, ['spec', 'scope']);
  if (scope !== 'Namespaced' && scope !== 'Cluster')
    out.push(cause.notSupported('spec.scope', scope ?? '', ['Cluster', 'Namespaced']));
  const versions = getArray(object, ['spec', 'versions']) ?? [];
  if (versions.length === 0)
    out.push(cause.required('spec.versions', 'must have exactly one version marked as storage version'));
  else if (versions.filter((v) => isObject(v) && v['storage'] === true).length !== 1) {
    out.push(
      cause.invalid(
        'spec.versions',
        versions.length,
        'must have exactly one version marked as storage version',
      ),
    );
  }
  for (const version of versions) {
    const schema = getObject(version, ['schema', 'openAPIV3Schema']);
    // The real path says spec.validation even for v1 (the internal type's field).
    if (schema) out.push(...validateListMapKeys(schema, 'spec.validation.openAPIV3Schema'));
  }
  return out;
}

/** Keys of x-kubernetes-list-type=map lists must be required or defaulted (structural schema rule). */
function validateListMapKeys(schema: JsonObject, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  const items = getObject(schema, ['items']);
  if (schema['x-kubernetes-list-type'] === 'map' && items) {
    const required = new Set(
      (getArray(items, ['required']) ?? []).filter((r): r is string => typeof r === 'string'),
    );
    for (const key of (getArray(schema, ['x-kubernetes-list-map-keys']) ?? []).filter(
      (k): k is string => typeof k === 'string',
    )) {
      const property = getObject(items, ['properties', key]);
      if (!required.has(key) && property?.['default'] === undefined) {
        out.push(
          cause.required(
            `${path}.items.properties[${key}].default`,
            'this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property',
          ),
        );
      }
    }
  }
  const properties = getObject(schema, ['properties']);
  for (const [name, sub] of Object.entries(properties ?? {})) {
    if (isObject(sub)) out.push(...validateListMapKeys(sub, `${path}.properties[${name}]`));
  }
  if (items) out.push(...validateListMapKeys(items, `${path}.items`));
  return out;
}

function validateConfigKeys(object: StoredObject, fields: string[]): StatusCause[] {
  const out: StatusCause[] = [];
  for (const field of fields) {
    const data = getObject(object, [field]);
    if (!data) continue;
    for (const key of Object.keys(data)) {
      if (!CONFIG_KEY.test(key)) out.push(cause.invalid(`${field}[${key}]`, key, CONFIG_KEY_MESSAGE));
    }
  }
  return out;
}

// ---- CSI drivers --------------------------------------------------------------------------------

const VOLUME_LIFECYCLE_MODES = ['Persistent', 'Ephemeral'];
const FS_GROUP_POLICIES = ['None', 'ReadWriteOnceWithFSType', 'File'];

/** ValidateCSIDriver: the driver name (reported at `name`) and the supported spec values. */
function validateCsiDriver(object: StoredObject): StatusCause[] {
  const out: StatusCause[] = [];
  const name = object.metadata.name ?? '';
  if (name.length > 63) out.push(cause.tooLong('name', name, 63));
  if (name && !SUBDOMAIN.test(name.toLowerCase())) out.push(cause.invalid('name', name, SUBDOMAIN_MESSAGE));
  const spec = getObject(object, ['spec']) ?? {};
  const policy = spec['fsGroupPolicy'];
  if (typeof policy === 'string' && !FS_GROUP_POLICIES.includes(policy))
    out.push(cause.notSupported('spec.fsGroupPolicy', policy, FS_GROUP_POLICIES));
  for (const mode of getArray(spec, ['volumeLifecycleModes']) ?? []) {
    if (typeof mode !== 'string' || !VOLUME_LIFECYCLE_MODES.includes(mode)) {
      // Reported twice by the real server (its spec validation checks the modes twice).
      const unsupported = cause.notSupported('spec.volumeLifecycleModes', mode, VOLUME_LIFECYCLE_MODES);
      out.push(unsupported, unsupported);
    }
  }
  return out;
}

/**
 * ValidateCSIDriverUpdate in 1.20: the whole spec is immutable, reported at `spec` with the Go
 * rendering of the new spec (the real one shows pointer addresses; these are made up).
 */
function csiDriverUpdate(object: StoredObject, old: StoredObject): StatusCause[] {
  const spec = getObject(object, ['spec']) ?? {};
  if (deepEqual(spec, getObject(old, ['spec']) ?? {})) return [];
  const pointer = (type: string, value: unknown, address: string) =>
    value === undefined ? `(${type})(nil)` : `(${type})(0xc0000${address})`;
  const modes = (getArray(spec, ['volumeLifecycleModes']) ?? []).map((m) => JSON.stringify(m)).join(', ');
  const rendered =
    `storage.CSIDriverSpec{AttachRequired:${pointer('*bool', spec['attachRequired'], '10000')}, ` +
    `FSGroupPolicy:${pointer('*storage.FSGroupPolicy', spec['fsGroupPolicy'], '20000')}, ` +
    `PodInfoOnMount:${pointer('*bool', spec['podInfoOnMount'], '10001')}, ` +
    `VolumeLifecycleModes:[]storage.VolumeLifecycleMode{${modes}}, StorageCapacity:(*bool)(nil), ` +
    'TokenRequests:[]storage.TokenRequest(nil), RequiresRepublish:(*bool)(nil)}';
  return [
    { reason: 'FieldValueInvalid', message: `Invalid value: ${rendered}: field is immutable`, field: 'spec' },
  ];
}

/** All causes for a create (old undefined) or an update. */
export function validateObject(type: ResourceType, object: StoredObject, old?: StoredObject): StatusCause[] {
  const out = validateMetadata(type, object);
  if (old?.metadata.deletionTimestamp) {
    const before = new Set(old.metadata.finalizers ?? []);
    const added = (object.metadata.finalizers ?? []).filter((f) => !before.has(f));
    if (added.length > 0) {
      const detail = `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added
        .map((f) => JSON.stringify(f))
        .join(', ')}}`;
      // The real server reports this cause twice (its metadata update validation runs twice).
      out.push(
        cause.forbidden('metadata.finalizers', detail),
        cause.forbidden('metadata.finalizers', detail),
      );
    }
  }
  switch (type.id) {
    case 'apps/deployments':
    case 'apps/replicasets':
    case 'apps/statefulsets':
    case 'apps/daemonsets':
      out.push(...validateWorkload(type, object));
      if (old) out.push(...immutableSelector(object, old));
      if (old && type.id === 'apps/statefulsets') out.push(...statefulSetUpdate(object, old));
      break;
    case 'batch/jobs':
      out.push(...validatePodSpec('spec.template.spec', getObject(object, ['spec', 'template', 'spec'])));
      break;
    case '/pods':
      out.push(...validatePodSpec('spec', object['spec']));
      if (old) out.push(...podUpdate(object, old));
      break;
    case '/configmaps':
      out.push(...validateConfigKeys(object, ['data', 'binaryData']));
      break;
    case '/secrets':
      out.push(...validateConfigKeys(object, ['data']));
      break;
    case '/services': {
      const clusterIP = getString(object, ['spec', 'clusterIP']);
      const serviceType = getString(object, ['spec', 'type']);
      const ports = getArray(object, ['spec', 'ports']);
      if (serviceType !== 'ExternalName' && clusterIP !== 'None' && (!ports || ports.length === 0)) {
        out.push(cause.required('spec.ports'));
      }
      break;
    }
    case 'apiextensions.k8s.io/customresourcedefinitions':
      out.push(...validateCrd(object));
      break;
    case 'storage.k8s.io/csidrivers':
      out.push(...validateCsiDriver(object));
      if (old) out.push(...csiDriverUpdate(object, old));
      break;
  }
  return out;
}
