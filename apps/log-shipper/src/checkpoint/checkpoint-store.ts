import { constants } from 'node:fs';
import { access, mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

/** How far one file has been shipped: identified by device+inode so a rotated file is not re-read. */
export interface FileCheckpoint {
  path: string;
  device: number;
  inode: number;
  /** Byte offset up to which records are acknowledged by Kafka. */
  offset: number;
  updatedAt: string;
}

/**
 * The log-shipper's local store (SPEC R-ARCH-2): a JSON file replaced atomically (write temp, fsync,
 * rename), so a crash leaves either the old or the new checkpoints, never a torn file. An offset is
 * saved only after Kafka acknowledged the records before it: at-least-once, like the outbox.
 */
export class CheckpointStore {
  private checkpoints = new Map<string, FileCheckpoint>();
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly directory: string) {}

  private get file(): string {
    return join(this.directory, 'checkpoints.json');
  }

  async load(): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    try {
      const parsed = JSON.parse(await readFile(this.file, 'utf8')) as { checkpoints: FileCheckpoint[] };
      this.checkpoints = new Map(parsed.checkpoints.map((c) => [c.path, c]));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(
          `Checkpoint file ${this.file} is unreadable (${(error as Error).message}); move it aside to re-ship from the start`,
        );
      }
    }
  }

  get(path: string): FileCheckpoint | undefined {
    return this.checkpoints.get(path);
  }

  all(): FileCheckpoint[] {
    return [...this.checkpoints.values()];
  }

  /** Records new offsets and persists them; resolves when they are durable. */
  save(updates: readonly Omit<FileCheckpoint, 'updatedAt'>[]): Promise<void> {
    const now = new Date().toISOString();
    for (const u of updates) this.checkpoints.set(u.path, { ...u, updatedAt: now });
    const snapshot = JSON.stringify({ version: 1, checkpoints: this.all() });
    this.writing = this.writing.then(() => this.write(snapshot));
    return this.writing;
  }

  async writable(): Promise<void> {
    await access(this.directory, constants.W_OK);
  }

  private async write(content: string): Promise<void> {
    const temp = `${this.file}.${process.pid}.tmp`;
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, this.file);
  }
}
