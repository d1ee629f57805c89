/**
 * Status bodies shaped exactly like kube-apiserver 1.20's (checked against a real one): clients and
 * the adapter branch on `code` and `reason`, and people read `message`, so all three must match.
 */

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  /** Absent on success bodies, as in the real ones. */
  code?: number;
}

/** A resource as named in messages: `configmaps`, `deployments.apps`. */
export interface GroupResource {
  group: string;
  resource: string;
}

export function qualifiedResource(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

/** A failed request; the HTTP layer writes `status` as the body with `status.code`. */
export class ApiError extends Error {
  constructor(readonly status: StatusBody) {
    super(status.message ?? status.reason ?? `HTTP ${status.code}`);
    this.name = 'ApiError';
  }

  get code(): number {
    return this.status.code ?? 500;
  }
}

function failure(
  code: number,
  reason: string | undefined,
  message: string,
  details?: StatusDetails,
): ApiError {
  // Field order as the real server writes it.
  const body: StatusBody = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message };
  if (reason) body.reason = reason;
  if (details) body.details = details;
  body.code = code;
  return new ApiError(body);
}

/** Go omits empty fields: no `name` for a nameless object, no `group` for the core group. */
function resourceDetails(gr: GroupResource, name: string): StatusDetails {
  const details: StatusDetails = {};
  if (name) details.name = name;
  if (gr.group) details.group = gr.group;
  details.kind = gr.resource;
  return details;
}

export function successStatus(details: StatusDetails): StatusBody {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}

export const errors = {
  notFound(gr: GroupResource, name: string): ApiError {
    return failure(
      404,
      'NotFound',
      `${qualifiedResource(gr)} "${name}" not found`,
      resourceDetails(gr, name),
    );
  },

  /** An unknown URL under a served group version (real: empty details). */
  pathNotFound(): ApiError {
    return failure(404, 'NotFound', 'the server could not find the requested resource', {});
  },

  alreadyExists(gr: GroupResource, name: string): ApiError {
    return failure(
      409,
      'AlreadyExists',
      `${qualifiedResource(gr)} "${name}" already exists`,
      resourceDetails(gr, name),
    );
  },

  conflict(gr: GroupResource, name: string, why: string): ApiError {
    return failure(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${why}`,
      resourceDetails(gr, name),
    );
  },

  staleResourceVersion(gr: GroupResource, name: string): ApiError {
    return errors.conflict(
      gr,
      name,
      'the object has been modified; please apply your changes to the latest version and try again',
    );
  },

  /** A server-side apply conflict; the message lists the conflicting fields per manager. */
  applyConflict(message: string, causes: StatusCause[]): ApiError {
    return failure(409, 'Conflict', message, { causes });
  },

  /**
   * 422 with the real message shape: `Kind.group "name" is invalid: <cause>` for one cause,
   * `[<cause>, <cause>]` for several.
   */
  invalid(kind: string, group: string, name: string, causes: StatusCause[]): ApiError {
    // The message lists each distinct cause once (Go's error aggregate); details keep them all.
    const rendered = [...new Set(causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)))];
    const list = rendered.length === 1 ? rendered[0] : `[${rendered.join(', ')}]`;
    const qualifiedKind = group ? `${kind}.${group}` : kind;
    const details: StatusDetails = {};
    if (name) details.name = name;
    if (group) details.group = group;
    details.kind = kind;
    details.causes = causes;
    return failure(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${list}`, details);
  },

  /** A 422 with the generic message (malformed JSON patch operations). */
  invalidRequest(): ApiError {
    return failure(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
  },

  badRequest(message: string): ApiError {
    return failure(400, 'BadRequest', message);
  },

  forbidden(gr: GroupResource, name: string, why: string, causes?: StatusCause[]): ApiError {
    const details = resourceDetails(gr, name);
    if (causes) details.causes = causes;
    return failure(403, 'Forbidden', `${qualifiedResource(gr)} "${name}" is forbidden: ${why}`, details);
  },

  unauthorized(): ApiError {
    return failure(401, 'Unauthorized', 'Unauthorized');
  },

  methodNotAllowed(): ApiError {
    return failure(
      405,
      'MethodNotAllowed',
      'the server does not allow this method on the requested resource',
      {},
    );
  },

  unsupportedMediaType(message = '415: Unsupported Media Type'): ApiError {
    return failure(415, 'UnsupportedMediaType', message, message.startsWith('415') ? {} : undefined);
  },

  /** An applied configuration the schema cannot type (real: a 500 without reason). */
  typedPatch(detail: string): ApiError {
    return failure(500, undefined, `failed to create typed patch object: ${detail}`);
  },

  /** A watch resourceVersion that is not a number (real: a 500 without reason). */
  invalidResourceVersion(value: string): ApiError {
    return failure(
      500,
      undefined,
      `resourceVersion: Invalid value: "${value}": strconv.ParseUint: parsing "${value}": invalid syntax`,
    );
  },

  /** A PATCH body that is not JSON (the real answer is this odd 500 without a reason). */
  malformedPatch(): ApiError {
    return failure(500, undefined, 'Invalid JSON Patch');
  },

  requestTooLarge(): ApiError {
    return failure(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
  },

  expired(message: string): ApiError {
    return failure(410, 'Expired', message);
  },

  internal(message: string): ApiError {
    return failure(500, 'InternalError', `Internal error occurred: ${message}`, {
      causes: [{ reason: '', message }],
    });
  },
};

/** Field-level cause builders, named after the real `field.ErrorType`s. */
export const cause = {
  required(field: string, detail?: string): StatusCause {
    return {
      reason: 'FieldValueRequired',
      message: detail ? `Required value: ${detail}` : 'Required value',
      field,
    };
  },
  invalid(field: string, value: unknown, detail: string): StatusCause {
    return { reason: 'FieldValueInvalid', message: `Invalid value: ${goValue(value)}: ${detail}`, field };
  },
  forbidden(field: string, detail: string): StatusCause {
    return { reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field };
  },
  notSupported(field: string, value: unknown, allowed: string[]): StatusCause {
    return {
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${goValue(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`,
      field,
    };
  },
  duplicate(field: string, value: unknown): StatusCause {
    return { reason: 'FieldValueDuplicate', message: `Duplicate value: ${goValue(value)}`, field };
  },
  tooLong(field: string, value: unknown, max: number): StatusCause {
    return {
      reason: 'FieldValueTooLong',
      message: `Too long: must have at most ${max} bytes`,
      field,
    };
  },
};

/**
 * Renders a value the way Go's `%#v` does in field errors: strings quoted, numbers bare, string maps
 * as `map[string]string{"a":"b"}`. Other shapes fall back to JSON, close enough for people.
 */
export function goValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.every(([, v]) => typeof v === 'string')) {
      const sorted = entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `map[string]string{${sorted.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(', ')}}`;
    }
  }
  return JSON.stringify(value);
}
