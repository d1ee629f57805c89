import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { isAlive, repoRoot } from './process';

/*
 * What the benches that run real servers (KubeBench, KeystoneBench, RegistryBench) share, and
 * KafkaMockCluster's kill-on-exit:
 *  - children run under `setpriv --pdeathsig SIGKILL`, so the kernel kills them when this process
 *    dies in any way, even SIGKILLed; they write straight into a log file in the bench's directory;
 *  - children still running when this process exits normally are SIGKILLed by an exit hook;
 *  - each bench directory, tmp/<prefix><owner pid>-XXXXXX, holds a bench file (bench.json) naming
 *    the owner process and the children, so that cleanupLeftoverBenches() can remove what a killed
 *    run left (pdeathsig has normally killed the children already).
 * pdeathsig fires when the spawning *thread* ends: start the benches on the main thread.
 */

/** Every child still running, in this process; killed if the process exits without stop(). */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills every child registered with killOnExit() when this process exits (once is enough). */
export function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' does not run when the process is killed by a signal; pdeathsig covers that (setpriv's, or
  // the one the kafka-mock harness sets itself).
  process.on('exit', () => {
    for (const child of liveChildren) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** Registers `child` for the exit hook until it exits. */
export function killOnExit(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

/** `command args…` under setpriv's pdeathsig: setpriv sets PR_SET_PDEATHSIG and execs the command (same pid). */
export function setprivArgs(command: string, args: string[]): string[] {
  return ['--pdeathsig', 'SIGKILL', '--', command, ...args];
}

/** A long-running child of a bench, writing to its own log file. */
export interface BenchChild {
  name: string;
  /** 0 when the child could not be spawned (then `exit` says why, shortly). */
  pid: number;
  process: ChildProcess;
  logPath: string;
  /** Size of the log file when this child started: its own output begins there. */
  logOffset: number;
  /** Set once the child has exited. */
  exit?: string;
  exited: Promise<void>;
}

export interface BenchChildOptions {
  /** For messages and the bench file. */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  /** Appended to: stdout and stderr both go there. */
  logPath: string;
  /** Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
  /**
   * Message of the error thrown at once when the child gets no pid (setpriv missing); without it the
   * failure is reported through `exit`.
   */
  cannotStart?: string;
}

/**
 * Spawns a bench's server under `setpriv --pdeathsig SIGKILL` with its output appended to its log,
 * unref'd (a bench someone forgot to stop must not keep the test process alive) and registered for
 * the exit hook (see installExitHook()).
 */
export function spawnBenchChild(options: BenchChildOptions): BenchChild {
  const { name, logPath } = options;
  const logOffset = fileSize(logPath);
  // The child writes straight into its log file: nothing to pump through this process, and the
  // log survives a crash of the test runner.
  const fd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    // If this process dies in any way, the kernel SIGKILLs the child. Tried: SIGKILL to a Node
    // parent kills the child at once.
    child = spawn('setpriv', setprivArgs(options.command, options.args), {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined && options.cannotStart !== undefined) throw new Error(options.cannotStart);
  const benchChild: BenchChild = {
    name,
    pid: child.pid ?? 0,
    process: child,
    logPath,
    logOffset,
    exited: new Promise<void>((resolveExit) => {
      child.once('exit', (code, signal) => {
        benchChild.exit = signal ? `killed by ${signal}` : `exited with code ${code}`;
        resolveExit();
      });
    }),
  };
  child.on('error', (error) => {
    benchChild.exit ??= `failed: ${error.message}`;
  });
  // The exit hook kills it if nobody stops it.
  child.unref();
  killOnExit(child);
  return benchChild;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The last `maxBytes` of a log file from `offset` on, for failure messages. */
export function readLogTail(path: string, offset: number, maxBytes: number): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '(no log)';
  }
  try {
    const end = fileSize(path);
    const start = Math.max(offset, end - maxBytes);
    const buffer = Buffer.alloc(Math.max(0, end - start));
    readSync(fd, buffer, 0, buffer.length, start);
    return buffer.toString('utf8').trim() || '(empty log)';
  } finally {
    closeSync(fd);
  }
}

/** Resident memory in bytes (VmRSS), 0 if it cannot be read. */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// The bench file and leftovers of killed runs

const BENCH_FILE = 'bench.json';

interface BenchFile {
  ownerPid: number;
  createdAt: string;
  children: Array<{ name: string; pid: number }>;
}

/** (Re)writes `dir`/bench.json atomically: this process as the owner, and the children so far. */
export function writeBenchFile(dir: string, children: Array<{ name: string; pid: number }>): void {
  const file: BenchFile = { ownerPid: process.pid, createdAt: new Date().toISOString(), children };
  const path = join(dir, BENCH_FILE);
  writeFileSync(`${path}.tmp`, JSON.stringify(file, null, 2));
  renameSync(`${path}.tmp`, path);
}

/** Whether `pid` runs a command line mentioning `text` (guards against killing a reused pid). */
function commandMentions(pid: number, text: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
  } catch {
    return false;
  }
}

/**
 * Kills the children of the benches named `<dirPrefix><owner pid>-…` under `root` whose owner process
 * is gone (a test run that was killed) and removes their directories. Benches of live processes,
 * e.g. a parallel test run, are left alone. A child is killed only if its command line names the
 * bench's directory, so a process that merely reuses a recorded pid survives. `extraChildren` adds
 * pids recorded elsewhere than in the bench file. Returns the directories removed.
 */
export function cleanupLeftoverBenches(
  dirPrefix: string,
  root = join(repoRoot, 'tmp'),
  extraChildren?: (dir: string) => Array<{ name: string; pid: number }>,
): string[] {
  if (!existsSync(root)) return [];
  const removed: string[] = [];
  const ownerInName = new RegExp(`^${dirPrefix}(\\d+)-`);
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || !entry.name.startsWith(dirPrefix)) continue;
    const dir = join(root, entry.name);
    let file: Partial<BenchFile> = {};
    try {
      file = JSON.parse(readFileSync(join(dir, BENCH_FILE), 'utf8')) as Partial<BenchFile>;
    } catch {
      // killed before bench.json was written: the owner's pid is in the directory name
    }
    const owner = file.ownerPid ?? Number(ownerInName.exec(entry.name)?.[1]);
    if (!owner || isAlive(owner)) continue;
    for (const { pid } of [...(file.children ?? []), ...(extraChildren?.(dir) ?? [])]) {
      if (isAlive(pid) && commandMentions(pid, dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
