import { load } from 'js-yaml';

import { tryParseJson } from './json';

/**
 * A request body in JSON or YAML (server-side apply bodies and `application/yaml` requests).
 * JSON, what clients nearly always send, takes the fast path.
 */
export function parseJsonOrYaml(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const json = tryParseJson(text);
  if (json.ok) return json;
  try {
    // Plain js-yaml (client-node's `loadYaml` would turn the document into its model classes).
    return { ok: true, value: load(text) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message.split('\n')[0] : String(error) };
  }
}
