import { randomBytes } from 'node:crypto';

import { ApiError } from '../api-status';
import { clone, getArray, isObject } from '../json';
import { randomSuffix, type StoredObject } from '../object-meta';
import type { StoreEvent } from '../object-store';
import { CONTROLLER_MANAGER, type Controller, type ControllerContext, requireType } from './controller-kit';

const NAMESPACES = '/namespaces';
const SERVICE_ACCOUNTS = '/serviceaccounts';
const SECRETS = '/secrets';
const TOKEN_TYPE = 'kubernetes.io/service-account-token';

/** A stand-in for the cluster CA in `kube-root-ca.crt` and token secrets (the sandbox has no TLS). */
export const SANDBOX_CA =
  '-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhzdHJhdHVt\nLXNhbmRib3gtY2xpZW50LWNhMB4XDTIxMDEwMTAwMDAwMFoXDTMxMDEwMTAwMDAw\nMFowIzEhMB8GA1UEAwwYc3RyYXR1bS1zYW5kYm94LWNsaWVudC1jYTBZMBMGByqG\nSM49AgEGCCqGSM49AwEHA0IABHNhbmRib3gtaXMtbm90LWEtcmVhbC1jYS1rZXkt\nZm9yLXRsczsgcGxhaW4gaHR0cCBvbmx5LgAAAAAAAAAAAAAAAAAAAAAAAAAAo0Iw\nQDAOBgNVHQ8BAf8EBAMCAqQwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUAAAA\nAAAAAAAAAAAAAAAAAAAAAAAwCgYIKoZIzj0EAwIDSAAwRQIgAAAAAAAAAAAAAAAA\nAAAAAAAAAAAAAAAAAAAAAAAAAAACIQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nAAAAAAAAAA==\n-----END CERTIFICATE-----\n';

/**
 * What kube-controller-manager gives every namespace and service account: the `default`
 * ServiceAccount and the `kube-root-ca.crt` ConfigMap, and a token Secret per service account
 * (which ServiceAccount admission then mounts into pods). Unlike the real controllers this happens
 * in the same step as the namespace's creation, so a pod created right after its namespace never
 * meets the real server's "service account not found yet" race.
 */
export class ServiceAccountController implements Controller {
  readonly name = 'serviceaccount-controller';
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly ctx: ControllerContext) {}

  start(): void {
    this.unsubscribe = this.ctx.store.subscribe((event) => this.guard(event));
    for (const ns of this.ctx.store.list(NAMESPACES))
      if (!ns.metadata.deletionTimestamp) this.populate(ns.metadata.name ?? '');
    for (const sa of this.ctx.store.list(SERVICE_ACCOUNTS)) this.ensureToken(sa);
  }

  stop(): void {
    this.unsubscribe?.();
  }

  private guard(event: StoreEvent): void {
    try {
      if (event.type === 'DELETED') return;
      if (event.typeId === NAMESPACES && !event.object.metadata.deletionTimestamp)
        this.populate(event.object.metadata.name ?? '');
      else if (event.typeId === SERVICE_ACCOUNTS) this.ensureToken(event.object);
    } catch (error) {
      this.ctx.onError(this.name, error);
    }
  }

  private populate(namespace: string): void {
    this.ensure(SERVICE_ACCOUNTS, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'default', namespace },
    });
    this.ensure('/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kube-root-ca.crt', namespace },
      data: { 'ca.crt': SANDBOX_CA },
    });
  }

  private ensure(typeId: string, object: StoredObject): StoredObject | undefined {
    const namespace = object.metadata.namespace ?? '';
    const existing = this.ctx.store.get(typeId, namespace, object.metadata.name ?? '');
    if (existing) return existing;
    try {
      return this.ctx.storage.create(
        requireType(this.ctx.registry, typeId),
        namespace,
        object,
        CONTROLLER_MANAGER,
      );
    } catch (error) {
      // A namespace being deleted (403) or gone (404) needs nothing.
      if (error instanceof ApiError && (error.code === 403 || error.code === 404 || error.code === 409))
        return undefined;
      throw error;
    }
  }

  /** The tokens controller: a service account without a token secret gets one. */
  private ensureToken(sa: StoredObject): void {
    if (sa.metadata.deletionTimestamp) return;
    const namespace = sa.metadata.namespace ?? '';
    const referenced = (getArray(sa, ['secrets']) ?? []).filter(isObject).map((s) => String(s['name']));
    const hasToken = referenced.some(
      (name) => this.ctx.store.get(SECRETS, namespace, name)?.['type'] === TOKEN_TYPE,
    );
    if (hasToken) return;
    const saName = sa.metadata.name ?? '';
    const encode = (text: string) => Buffer.from(text).toString('base64');
    const secret = this.ensure(SECRETS, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: `${saName}-token-${randomSuffix()}`,
        namespace,
        annotations: {
          'kubernetes.io/service-account.name': saName,
          'kubernetes.io/service-account.uid': sa.metadata.uid ?? '',
        },
      },
      type: TOKEN_TYPE,
      data: {
        'ca.crt': encode(SANDBOX_CA),
        namespace: encode(namespace),
        token: encode(`sandbox.${randomBytes(24).toString('base64url')}`),
      },
    });
    if (!secret) return;
    const current = this.ctx.store.get(SERVICE_ACCOUNTS, namespace, saName);
    if (!current) return;
    const next = clone(current);
    next['secrets'] = [
      ...((getArray(current, ['secrets']) ?? []) as unknown[]),
      { name: secret.metadata.name },
    ];
    this.ctx.storage.commitUpdate(
      requireType(this.ctx.registry, SERVICE_ACCOUNTS),
      current,
      next,
      CONTROLLER_MANAGER,
    );
  }
}
