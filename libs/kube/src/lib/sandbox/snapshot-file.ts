import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { isObject } from './json';
import { asStored, type StoredObject } from './object-meta';

/** The on-disk state of a sandbox cluster (what etcd would hold). */
export interface Snapshot {
  version: 1;
  resourceVersion: number;
  /** Objects by storage identity (`apps/deployments`). */
  objects: Record<string, StoredObject[]>;
}

/** Reads a snapshot; undefined when there is none yet. A damaged file is an error, not a fresh start. */
export async function readSnapshot(path: string): Promise<Snapshot | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(
      `sandbox cluster state ${path} is not valid JSON (${(error as Error).message}); move it away to start empty`,
    );
  }
  if (!isObject(parsed) || parsed['version'] !== 1 || !isObject(parsed['objects'])) {
    throw new Error(`sandbox cluster state ${path} has an unknown format; move it away to start empty`);
  }
  const objects: Record<string, StoredObject[]> = {};
  for (const [typeId, list] of Object.entries(parsed['objects'])) {
    objects[typeId] = (Array.isArray(list) ? list : [])
      .map(asStored)
      .filter((o): o is StoredObject => o !== undefined);
  }
  return { version: 1, resourceVersion: Number(parsed['resourceVersion']) || 0, objects };
}

/**
 * Writes snapshots behind a debounce, one at a time, atomically (temporary file + rename), so the
 * all-in-one mode keeps its cluster across restarts without rewriting the file on every change.
 */
export class SnapshotWriter {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;

  constructor(
    private readonly path: string,
    private readonly take: () => Snapshot,
    private readonly debounceMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  schedule(): void {
    this.dirty = true;
    if (this.timer || this.writing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, this.debounceMs);
  }

  /** Writes pending changes now (stop). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.writing) await this.writing;
    if (this.dirty) await this.write();
  }

  private async write(): Promise<void> {
    if (this.writing) return this.writing;
    this.dirty = false;
    const text = JSON.stringify(this.take());
    const temporary = `${this.path}.${process.pid}.tmp`;
    this.writing = (async () => {
      try {
        await mkdir(dirname(this.path), { recursive: true });
        await writeFile(temporary, text, 'utf8');
        await rename(temporary, this.path);
      } catch (error) {
        this.onError(error);
      }
    })();
    await this.writing;
    this.writing = undefined;
    if (this.dirty) this.schedule();
  }
}
