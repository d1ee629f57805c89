/**
 * Typed Kubernetes API errors. Callers branch on the class, never on status codes or message text:
 * a NotFoundError on delete is success, a ConflictError on create means "already there", an
 * UnavailableError is the only kind worth retrying.
 */

/** One field-level cause the API server gave for a 422/409 (`details.causes[]`). */
export interface KubeErrorCause {
  field?: string;
  reason?: string;
  message?: string;
}

export interface KubeErrorInit {
  /** HTTP status, 0 when the request never got an answer. */
  status: number;
  /** The Status `reason` (NotFound, AlreadyExists, Conflict, Invalid, Forbidden, Expired, …). */
  reason?: string;
  causes?: KubeErrorCause[];
  /** Which cluster and call, for the message. */
  cluster?: string;
  operation?: string;
  /** True when the request certainly did not reach the server (connection refused): safe to retry. */
  notSent?: boolean;
  /** Seconds the server asked us to wait (429 Retry-After). */
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class KubeError extends Error {
  readonly status: number;
  readonly reason: string | undefined;
  readonly causes: KubeErrorCause[];
  readonly cluster: string | undefined;
  readonly operation: string | undefined;
  readonly notSent: boolean;
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, init: KubeErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.status = init.status;
    this.reason = init.reason;
    this.causes = init.causes ?? [];
    this.cluster = init.cluster;
    this.operation = init.operation;
    this.notSent = init.notSent ?? false;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/** 404: the object (or its namespace) does not exist. */
export class NotFoundError extends KubeError {}
/** 409: AlreadyExists on create, Conflict on a stale resourceVersion or a server-side-apply field conflict. */
export class ConflictError extends KubeError {}
/** 400/422: the object or request is malformed; `causes` names the fields. Retrying cannot help. */
export class InvalidError extends KubeError {}
/** 401/403: the credentials are missing, wrong, or not allowed to do this. */
export class ForbiddenError extends KubeError {}
/** 410: a watch resourceVersion is too old; the caller must list again. */
export class GoneError extends KubeError {}
/** No answer, 429, 5xx, or a timeout: the server may be restarting. The only retryable kind. */
export class UnavailableError extends KubeError {}

interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: KubeErrorCause[]; retryAfterSeconds?: number };
}

function parseStatus(body: unknown): StatusBody | undefined {
  if (body && typeof body === 'object') return body as StatusBody;
  if (typeof body !== 'string' || body === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed && typeof parsed === 'object' ? (parsed as StatusBody) : undefined;
  } catch {
    return undefined;
  }
}

/** Connection-level failures: the request was not (or may not have been) answered. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const NETWORK_CODES = new Set([
  ...NOT_SENT_CODES,
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function networkCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    const errors = (e as { errors?: unknown }).errors; // AggregateError from happy-eyeballs
    if (Array.isArray(errors)) {
      const inner = errors.map(networkCode).find(Boolean);
      if (inner) return inner;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Turns whatever the client library threw (ApiException with a Status body, fetch/undici network
 * errors, aborts) into one of the typed errors above.
 */
export function toKubeError(
  error: unknown,
  context: { cluster?: string; operation?: string } = {},
): KubeError {
  if (error instanceof KubeError) return error;
  const where = [context.cluster, context.operation].filter(Boolean).join(' ');
  const prefix = where ? `${where}: ` : '';
  const status =
    (error as { code?: unknown })?.code !== undefined &&
    typeof (error as { code?: unknown }).code === 'number'
      ? ((error as { code: number }).code as number)
      : typeof (error as { statusCode?: unknown })?.statusCode === 'number'
        ? (error as { statusCode: number }).statusCode
        : undefined;

  if (status !== undefined && status > 0) {
    const body = parseStatus((error as { body?: unknown }).body);
    const headers = (error as { headers?: Record<string, string> }).headers ?? {};
    const retryAfter = Number(headers['retry-after'] ?? body?.details?.retryAfterSeconds);
    const init: KubeErrorInit = {
      status,
      reason: body?.reason,
      causes: body?.details?.causes,
      cluster: context.cluster,
      operation: context.operation,
      retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
      cause: error,
    };
    const message = `${prefix}${body?.message ?? (error as Error).message ?? `HTTP ${status}`}`;
    if (status === 404) return new NotFoundError(message, init);
    if (status === 409) return new ConflictError(message, init);
    if (status === 400 || status === 422) return new InvalidError(message, init);
    if (status === 401 || status === 403) return new ForbiddenError(message, init);
    if (status === 410) return new GoneError(message, init);
    if (status === 429 || status >= 500) return new UnavailableError(message, init);
    return new KubeError(message, init);
  }

  const code = networkCode(error);
  const aborted =
    (error as { name?: string })?.name === 'TimeoutError' ||
    (error as { name?: string })?.name === 'AbortError';
  if (code || aborted) {
    return new UnavailableError(
      `${prefix}API server unavailable (${code ?? 'timeout'}); check that the cluster is up and reachable`,
      {
        status: 0,
        cluster: context.cluster,
        operation: context.operation,
        notSent: code !== undefined && NOT_SENT_CODES.has(code),
        cause: error,
      },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new KubeError(`${prefix}${message}`, {
    status: 0,
    cluster: context.cluster,
    operation: context.operation,
    cause: error,
  });
}
