import {
  ConflictError,
  ForbiddenError,
  GoneError,
  InvalidError,
  KubeError,
  NotFoundError,
  toKubeError,
  UnavailableError,
} from './errors';

const apiException = (code: number, body: object, headers: Record<string, string> = {}) =>
  Object.assign(new Error('Unsuccessful HTTP Request'), { code, body: JSON.stringify(body), headers });

describe('typed Kubernetes errors', () => {
  it.each([
    [404, 'NotFound', NotFoundError],
    [409, 'AlreadyExists', ConflictError],
    [409, 'Conflict', ConflictError],
    [422, 'Invalid', InvalidError],
    [400, 'BadRequest', InvalidError],
    [403, 'Forbidden', ForbiddenError],
    [401, 'Unauthorized', ForbiddenError],
    [410, 'Expired', GoneError],
    [429, 'TooManyRequests', UnavailableError],
    [503, 'ServiceUnavailable', UnavailableError],
  ])('HTTP %i %s → %p', (code, reason, type) => {
    const error = toKubeError(
      apiException(code, { kind: 'Status', reason, message: `says ${reason}`, code }),
      {
        cluster: 'c1',
        operation: 'get ConfigMap a/b',
      },
    );
    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ status: code, reason, cluster: 'c1' });
    expect(error.message).toBe(`c1 get ConfigMap a/b: says ${reason}`);
  });

  it('keeps the field causes of an Invalid answer and the Retry-After of a 429', () => {
    const invalid = toKubeError(
      apiException(422, {
        reason: 'Invalid',
        details: { causes: [{ field: 'metadata.name', reason: 'FieldValueInvalid' }] },
      }),
    );
    expect(invalid.causes).toEqual([{ field: 'metadata.name', reason: 'FieldValueInvalid' }]);
    expect(toKubeError(apiException(429, {}, { 'retry-after': '3' })).retryAfterSeconds).toBe(3);
  });

  it('treats a refused connection as unavailable and certainly not sent; a reset as unavailable only', () => {
    const refused = toKubeError(
      Object.assign(new TypeError('fetch failed'), {
        cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      }),
    );
    expect(refused).toBeInstanceOf(UnavailableError);
    expect(refused.notSent).toBe(true);
    const reset = toKubeError(
      Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } }),
    );
    expect(reset).toBeInstanceOf(UnavailableError);
    expect(reset.notSent).toBe(false);
  });

  it('leaves programming errors as plain KubeErrors (never retried)', () => {
    const error = toKubeError(new TypeError('boom'));
    expect(error).toBeInstanceOf(KubeError);
    expect(error).not.toBeInstanceOf(UnavailableError);
  });
});
