// Where template files come from. The processor only ever asks a ToscaSource for a path; the
// file-system and in-memory sources cover the API (uploaded files) and the CLI/tests.
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';

export interface ToscaSource {
  /** The file's content, or undefined when there is no such file. Must not throw for a missing file. */
  readFile(path: string): Promise<string | Buffer | undefined>;
}

/** Files under `rootDir`; template paths are relative to it (posix separators). */
export function fileSystemSource(rootDir: string): ToscaSource {
  const root = path.resolve(rootDir);
  return {
    async readFile(file: string) {
      const full = path.resolve(root, file);
      try {
        return await readFile(full);
      } catch {
        return undefined;
      }
    },
  };
}

/** Files held in memory, keyed by normalised posix path (e.g. uploaded with the API request). */
export function memorySource(files: Record<string, string | Buffer>): ToscaSource {
  const byPath = new Map<string, string | Buffer>();
  for (const [name, content] of Object.entries(files)) byPath.set(normalizePath(name), content);
  return {
    async readFile(file: string) {
      return byPath.get(normalizePath(file));
    },
  };
}

export function normalizePath(p: string): string {
  const n = path.posix.normalize(p.replace(/\\/g, '/'));
  return n.startsWith('./') ? n.slice(2) : n;
}

/** Resolves `file` relative to the directory of `fromFile` (both posix). */
export function resolveRelative(fromFile: string, file: string): string {
  if (file.startsWith('/')) return normalizePath(file);
  return normalizePath(path.posix.join(path.posix.dirname(fromFile), file));
}
