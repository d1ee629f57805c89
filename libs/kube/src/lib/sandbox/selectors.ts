import { errors } from './api-status';
import { getPath, isObject } from './json';

/** One parsed label-selector requirement. */
export type LabelRequirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' };

export type LabelSelector = LabelRequirement[];

/**
 * Parses the string form (`a=b,c!=d,e in (x,y),f notin (z),g,!h`). Throws a 400 like the real
 * server for malformed input.
 */
export function parseLabelSelector(text: string | undefined): LabelSelector {
  if (!text || text.trim() === '') return [];
  const requirements: LabelSelector = [];
  for (const part of splitTopLevel(text)) {
    const term = part.trim();
    if (term === '') continue;
    let match = /^!\s*([^\s=!(),]+)$/.exec(term);
    if (match) {
      requirements.push({ key: match[1], op: 'notexists' });
      continue;
    }
    match = /^([^\s=!(),]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
    if (match) {
      const values = match[3]
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      requirements.push({ key: match[1], op: match[2] === 'in' ? 'in' : 'notin', values });
      continue;
    }
    match = /^([^\s=!(),]+)\s*(==|=|!=)\s*([^\s=!(),]*)$/.exec(term);
    if (match) {
      requirements.push({ key: match[1], op: match[2] === '!=' ? 'neq' : 'eq', value: match[3] });
      continue;
    }
    match = /^([^\s=!(),]+)$/.exec(term);
    if (match) {
      requirements.push({ key: match[1], op: 'exists' });
      continue;
    }
    throw errors.badRequest(`unable to parse requirement: found '${term}', expected: identifier`);
  }
  return requirements;
}

/** Splits on commas outside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const have = labels ?? {};
  for (const r of selector) {
    const present = Object.prototype.hasOwnProperty.call(have, r.key);
    const value = have[r.key];
    switch (r.op) {
      case 'eq':
        if (!present || value !== r.value) return false;
        break;
      case 'neq':
        if (present && value === r.value) return false;
        break;
      case 'in':
        if (!present || !r.values.includes(value)) return false;
        break;
      case 'notin':
        if (present && r.values.includes(value)) return false;
        break;
      case 'exists':
        if (!present) return false;
        break;
      case 'notexists':
        if (present) return false;
        break;
    }
  }
  return true;
}

/**
 * A `metav1.LabelSelector` object (matchLabels + matchExpressions) as requirements. An absent
 * selector matches nothing, an empty one everything, as in the real controllers.
 */
export function fromLabelSelectorObject(selector: unknown): LabelSelector | undefined {
  if (!isObject(selector)) return undefined;
  const requirements: LabelSelector = [];
  const matchLabels = selector['matchLabels'];
  if (isObject(matchLabels)) {
    for (const key of Object.keys(matchLabels).sort()) {
      requirements.push({ key, op: 'eq', value: String(matchLabels[key]) });
    }
  }
  const expressions = selector['matchExpressions'];
  if (Array.isArray(expressions)) {
    for (const e of expressions) {
      if (!isObject(e) || typeof e['key'] !== 'string') continue;
      const values = Array.isArray(e['values']) ? e['values'].map(String) : [];
      switch (e['operator']) {
        case 'In':
          requirements.push({ key: e['key'], op: 'in', values });
          break;
        case 'NotIn':
          requirements.push({ key: e['key'], op: 'notin', values });
          break;
        case 'Exists':
          requirements.push({ key: e['key'], op: 'exists' });
          break;
        case 'DoesNotExist':
          requirements.push({ key: e['key'], op: 'notexists' });
          break;
      }
    }
  }
  return requirements;
}

/** The string form, as `/scale` reports it in `status.selector` (`app=web,tier in (a,b)`). */
export function formatLabelSelector(selector: LabelSelector): string {
  return selector
    .map((r) => {
      switch (r.op) {
        case 'eq':
          return `${r.key}=${r.value}`;
        case 'neq':
          return `${r.key}!=${r.value}`;
        case 'in':
          return `${r.key} in (${[...r.values].sort().join(',')})`;
        case 'notin':
          return `${r.key} notin (${[...r.values].sort().join(',')})`;
        case 'exists':
          return r.key;
        case 'notexists':
          return `!${r.key}`;
      }
    })
    .join(',');
}

// ---- field selectors -------------------------------------------------------------------------

export interface FieldRequirement {
  field: string;
  op: 'eq' | 'neq';
  value: string;
}

/** Field labels each kind supports beyond metadata.name and metadata.namespace. */
const FIELD_LABELS: Record<string, Record<string, readonly string[]>> = {
  '/pods': {
    'spec.nodeName': ['spec', 'nodeName'],
    'spec.restartPolicy': ['spec', 'restartPolicy'],
    'spec.schedulerName': ['spec', 'schedulerName'],
    'spec.serviceAccountName': ['spec', 'serviceAccountName'],
    'status.phase': ['status', 'phase'],
    'status.podIP': ['status', 'podIP'],
    'status.nominatedNodeName': ['status', 'nominatedNodeName'],
  },
  '/nodes': { 'spec.unschedulable': ['spec', 'unschedulable'] },
  '/namespaces': { 'status.phase': ['status', 'phase'] },
  '/secrets': { type: ['type'] },
  '/persistentvolumeclaims': { 'status.phase': ['status', 'phase'] },
  '/events': {
    'involvedObject.kind': ['involvedObject', 'kind'],
    'involvedObject.namespace': ['involvedObject', 'namespace'],
    'involvedObject.name': ['involvedObject', 'name'],
    'involvedObject.uid': ['involvedObject', 'uid'],
    'involvedObject.apiVersion': ['involvedObject', 'apiVersion'],
    'involvedObject.resourceVersion': ['involvedObject', 'resourceVersion'],
    'involvedObject.fieldPath': ['involvedObject', 'fieldPath'],
    reason: ['reason'],
    source: ['source', 'component'],
    type: ['type'],
  },
  'apps/replicasets': { 'status.replicas': ['status', 'replicas'] },
  'batch/jobs': { 'status.successful': ['status', 'succeeded'] },
};

export function parseFieldSelector(text: string | undefined, typeId: string): FieldRequirement[] {
  if (!text || text.trim() === '') return [];
  const out: FieldRequirement[] = [];
  for (const term of text.split(',')) {
    const match = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
    if (!match) throw errors.badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const field = match[1];
    if (field !== 'metadata.name' && field !== 'metadata.namespace' && !FIELD_LABELS[typeId]?.[field]) {
      throw errors.badRequest(`field label not supported: ${field}`);
    }
    out.push({ field, op: match[2] === '!=' ? 'neq' : 'eq', value: match[3] });
  }
  return out;
}

export function matchesFields(requirements: FieldRequirement[], object: unknown, typeId: string): boolean {
  for (const r of requirements) {
    let actual: unknown;
    if (r.field === 'metadata.name') actual = getPath(object, ['metadata', 'name']);
    else if (r.field === 'metadata.namespace') actual = getPath(object, ['metadata', 'namespace']);
    else actual = getPath(object, FIELD_LABELS[typeId]?.[r.field] ?? []);
    const text = actual === undefined || actual === null ? '' : String(actual);
    if (r.op === 'eq' ? text !== r.value : text === r.value) return false;
  }
  return true;
}
