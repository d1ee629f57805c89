import { errors } from './api-status';
import { isObject } from './json';

/** List pagination tokens (`limit` / `continue`): the resourceVersion and the last key served. */

export function encodeContinue(resourceVersion: string, after: string): string {
  return Buffer.from(
    JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(resourceVersion), start: after }),
  ).toString('base64');
}

export function decodeContinue(token: string): { resourceVersion: string; after: string } {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    if (isObject(parsed) && typeof parsed['start'] === 'string') {
      return { resourceVersion: String(parsed['rv']), after: parsed['start'] };
    }
  } catch {
    // fall through to the real server's message
  }
  throw errors.badRequest(
    'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
  );
}
