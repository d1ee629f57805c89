import { randomInt, randomUUID } from 'node:crypto';

import type { KubeObjectMeta, OwnerReference } from '../resources';
import { isObject, type JsonObject } from './json';

export type { OwnerReference };

/** The adapter's metadata type; stored objects may carry fields the sandbox does not model. */
export interface ObjectMeta extends KubeObjectMeta {
  [field: string]: unknown;
}

/** An object as stored: wire JSON whose metadata has been checked to be an object. */
export interface StoredObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export function asStored(value: unknown): StoredObject | undefined {
  return isObject(value) && isObject(value['metadata']) ? (value as StoredObject) : undefined;
}

export function toJson(object: StoredObject): JsonObject {
  return object as JsonObject;
}

/** RFC 3339 with whole seconds, the precision of metav1.Time on the wire. */
export function timestamp(at: Date = new Date()): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function newUid(): string {
  return randomUUID();
}

/** The alphabet of `generateName` suffixes (no vowels, no look-alikes), as in the real server. */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(length = 5): string {
  let out = '';
  for (let i = 0; i < length; i++) out += NAME_ALPHABET[randomInt(NAME_ALPHABET.length)];
  return out;
}

/** The real encoding of hashes in names (`pod-template-hash`): safe characters only. */
export function safeEncode(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.charCodeAt(0);
    out += NAME_ALPHABET[code % NAME_ALPHABET.length];
  }
  return out;
}

/** 32-bit FNV-1a, the hash the real controllers use for template hashes. */
export function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export function controllerRef(object: StoredObject): OwnerReference | undefined {
  return object.metadata.ownerReferences?.find((ref) => ref.controller === true);
}

export function ownerRefTo(owner: StoredObject, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function isDeleting(object: StoredObject): boolean {
  return object.metadata.deletionTimestamp !== undefined;
}

/** The order kube-apiserver writes metadata fields in (readability of dumps and diffs). */
const METADATA_ORDER = [
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'clusterName',
  'managedFields',
];

/** Objects print kind, apiVersion, metadata, the rest, then status, like the Go structs. */
export function canonicalOrder(object: StoredObject): StoredObject {
  const metadata: ObjectMeta = {};
  for (const key of METADATA_ORDER) {
    // resourceVersion keeps its place even before the store stamps it.
    if (object.metadata[key] !== undefined || key === 'resourceVersion')
      metadata[key] = object.metadata[key] ?? '';
  }
  for (const [key, value] of Object.entries(object.metadata)) {
    if (!(key in metadata) && value !== undefined) metadata[key] = value;
  }
  const out: StoredObject = { kind: object.kind, apiVersion: object.apiVersion, metadata };
  for (const [key, value] of Object.entries(object)) {
    if (
      key !== 'kind' &&
      key !== 'apiVersion' &&
      key !== 'metadata' &&
      key !== 'status' &&
      value !== undefined
    ) {
      out[key] = value;
    }
  }
  if (object['status'] !== undefined) out['status'] = object['status'];
  return out;
}
