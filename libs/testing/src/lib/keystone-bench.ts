import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import {
  type BenchChild,
  cleanupLeftoverBenches,
  installExitHook,
  killOnExit,
  readLogTail,
  rssBytes,
  setprivArgs,
  spawnBenchChild,
  writeBenchFile,
} from './bench-process';
import { freePort, isAlive, repoRoot } from './process';

/*
 * A real OpenStack Keystone (Debian's python3-keystone, Zed / 22.0.2) for tests: identity API v3 on
 * 127.0.0.1, fernet tokens, SQLite, served by uWSGI. Issue #6: the gateway authenticates users against
 * Keystone v3 and validates their tokens with its own service token.
 *
 * Start-up cost and the cache. Every `keystone-manage` call spends ≈5 s importing Keystone, so the
 * documented sequence (db_sync, fernet_setup, credential_setup, bootstrap) took 20.7 s in a row here
 * and 6.5–10.6 s with the first three in parallel. A bootstrapped database is the same for every bench, so it
 * is built once per machine and Keystone version into tools/bench-bin/keystone/ (git-ignored) and
 * copied into each bench; per bench only the parts that must differ are rewritten: fresh fernet and
 * credential keys (a token of one bench is worthless on another), a fresh admin password and the
 * catalog's endpoint URLs (the port). Measured on 2 cores: a cold start (`cache: false`) 9–13 s, a
 * start from the cache 2.0–3.3 s, of which 0.04–0.1 s preparation and the rest uWSGI importing
 * Keystone until `GET /v3` answers. The server: one process, ≈140 MB resident.
 *
 * Serving. One uWSGI process (no master), 4 threads, answering `Connection: close`:
 *  - One process, because `dogpile.cache.memory` is per process: with `--processes 2` a role
 *    unassignment or a revocation handled by one worker left the other worker's cache stale, and it
 *    kept validating the user's tokens (seen: 404,200,200,200,200,404 for one token). With one process
 *    every request sees every change at once, as with a shared cache in production.
 *  - 4 threads, because a password authentication spends its time in bcrypt, which releases the GIL:
 *    with one thread a validation waited up to 1.6 s behind six concurrent logins, with four ≈0.5 s
 *    at most (p50 12 ms). Same memory. Concurrent writes (16 parallel user creations,
 *    role assignments, logins, revocations) ran without error: SQLite in WAL mode.
 *  - No master process: one pid to SIGKILL, so a stopped Keystone really is gone (a master killed
 *    hard can leave a worker holding the port), and less memory (141 MB PSS against 173 MB for a
 *    master and one worker).
 *  - `Connection: close`: uWSGI's plain --http-socket closes every connection after the response but
 *    says nothing, so a keep-alive client (Node's fetch) sometimes reuses a socket the server is
 *    closing and gets "other side closed" (seen under concurrency). Production Keystone behind Apache
 *    does keep-alive properly; a client should still retry an idempotent GET on a reset socket.
 *
 * Policy, measured on this Keystone with its default policy (no policy file): validating someone
 * else's token (GET /v3/auth/tokens with X-Auth-Token + X-Subject-Token) is allowed to a token with
 * the `service` role or the `admin` role on any project, and refused (403 identity:validate_token)
 * with `member` or `reader`; everyone may validate their own token. `service` however may not list
 * users, projects, roles or role assignments (403), which the gateway needs for tenant membership:
 * so {@link KeystoneBench.createServiceUser} gives `stratum-gateway` the role `admin` on project
 * `service` by default (`roleName: 'service'` gives the least privilege that validates tokens).
 *
 * Children run under `setpriv --pdeathsig SIGKILL`, so they die with this process even when it is
 * SIGKILLed; cleanupLeftoverKeystoneBenches() removes the directories a killed run left.
 */

export interface KeystoneBenchOptions {
  /** Port on 127.0.0.1. Default: a free one (picked again if someone else takes it first). */
  port?: number;
  /** `[token] expiration`: lifetime of issued tokens. Default 3600 (Keystone's default). */
  tokenExpirationSeconds?: number;
  /**
   * bcrypt cost of passwords set on this bench (`[identity] password_hash_rounds`). Default 4, the
   * minimum: a password login then takes ≈20 ms instead of ≈250 ms with Keystone's default 12, which
   * adds up over a suite. Pass 12 to measure production-like login latency.
   */
  passwordHashRounds?: number;
  /**
   * uWSGI worker processes. Default 1 (with 4 threads). More than one gives every worker its own
   * in-memory cache, so a revocation or role change seen by one is not seen by the others: tokens
   * then validate or not depending on the worker (see the file comment). Only for load experiments.
   */
  processes?: number;
  /** Start from the per-machine cache (default true); false runs the whole keystone-manage sequence. */
  cache?: boolean;
  /** Deadline for each step (keystone-manage, uWSGI answering). Default 120 000 ms. */
  startTimeoutMs?: number;
}

/** The body of a token (POST /v3/auth/tokens, GET /v3/auth/tokens). */
export interface KeystoneTokenBody {
  token: {
    methods: string[];
    expires_at: string;
    issued_at: string;
    audit_ids: string[];
    user: {
      id: string;
      name: string;
      domain: { id: string; name: string };
      password_expires_at?: string | null;
    };
    project?: { id: string; name: string; domain: { id: string; name: string } };
    domain?: { id: string; name: string };
    roles?: Array<{ id: string; name: string }>;
    is_domain?: boolean;
    catalog?: unknown[];
    [key: string]: unknown;
  };
}

export interface IssuedKeystoneToken {
  /** The X-Subject-Token header: the token itself. */
  token: string;
  /** ISO 8601, as Keystone sends it (`expires_at`). */
  expiresAt: string;
  userId: string;
  projectId?: string;
  /** The whole answer: user, project, roles, methods, audit ids. */
  body: KeystoneTokenBody;
}

export interface TokenValidation {
  /** 200 valid; 404 unknown, expired or revoked; 401 the validating token is invalid; 403 not allowed. */
  status: number;
  body?: KeystoneTokenBody;
}

export interface KeystoneServiceUser {
  username: string;
  password: string;
  userId: string;
  /** The project's name (`service`); same as projectName. */
  project: string;
  projectName: string;
  projectId: string;
  /** Domain of the user and the project: `default`. */
  domainId: string;
  roleName: string;
}

/** Milliseconds of each start phase. */
export interface KeystoneBenchTimings {
  /** Whether the bench started from the per-machine cache. */
  cached: boolean;
  /** Building the cache, when this start had to (0 otherwise). */
  cacheBuildMs: number;
  /** Writing config and keys, copying the cached database or running keystone-manage. */
  prepareMs: number;
  /** From spawning uWSGI to `GET /v3` answering 200. */
  serverMs: number;
  totalMs: number;
}

/** Thrown by the admin helpers when Keystone answers something unexpected. */
export class KeystoneBenchError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(message);
  }
}

const DEFAULT_START_TIMEOUT_MS = 120_000;
const DEFAULT_TOKEN_EXPIRATION_S = 3600;
const DEFAULT_PASSWORD_HASH_ROUNDS = 4;
const UWSGI_THREADS = 4;
const PROBE_INTERVAL_MS = 50;
const PORT_ATTEMPTS = 4;
const LOG_TAIL_BYTES = 3_000;
const DIR_PREFIX = 'keystone-bench-';
/** Bump when the cached database's recipe changes: a new cache directory is built. */
const CACHE_RECIPE = 1;
const CACHE_ROOT = join(repoRoot, 'tools', 'bench-bin', 'keystone');
const CACHE_READY = 'ready.json';
const CACHE_LOCK = '.build.lock';
const CACHE_LOCK_WAIT_MS = 300_000;
const ADMIN = { user: 'admin', project: 'admin', role: 'admin', region: 'RegionOne' };
const DEFAULT_DOMAIN = 'default';
/** The system Python: `python3` on PATH may be a pyenv shim without Keystone's modules. */
const SYSTEM_PYTHON = '/usr/bin/python3';
const REQUIRED = [
  { path: '/usr/bin/keystone-manage', pkg: 'python3-keystone' },
  { path: '/usr/bin/uwsgi_python3', pkg: 'uwsgi-plugin-python3' },
  { path: '/usr/bin/sqlite3', pkg: 'sqlite3' },
];

// ---------------------------------------------------------------------------------------------
// Child processes (bench-process.ts)

/**
 * The environment for Keystone's Python: the caller's minus anything that would point the system
 * Python at another installation's modules.
 */
function pythonEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV', 'PYENV_VERSION']) delete env[name];
  return env;
}

/**
 * Runs a short-lived command under setpriv's pdeathsig (it dies with us) and resolves with its
 * stdout; rejects with the tail of its output when it fails or overruns `timeoutMs`.
 */
function run(
  command: string,
  args: string[],
  options: { cwd?: string; timeoutMs: number; what: string },
): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn('setpriv', setprivArgs(command, args), {
      cwd: options.cwd,
      env: pythonEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    killOnExit(child);
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child
      .stderr!.setEncoding('utf8')
      .on('data', (chunk: string) => (err = (err + chunk).slice(-LOG_TAIL_BYTES)));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`KeystoneBench: ${options.what}: cannot run ${command}: ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolveRun(out);
      const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
      reject(
        new Error(`KeystoneBench: ${options.what} ${how}:\n${(err || out).trim().slice(-LOG_TAIL_BYTES)}`),
      );
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

/** The last bytes of a log file from `offset` on. */
function tail(path: string, offset = 0): string {
  return readLogTail(path, offset, LOG_TAIL_BYTES);
}

/** A fernet (and credential) key exactly as `keystone-manage fernet_setup` writes one: 32 random bytes, urlsafe base64 with padding. */
function fernetKey(): string {
  return randomBytes(32).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** Key repository with a staged key (0) and a primary key (1), as fernet_setup and credential_setup leave it. */
function writeKeyRepository(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of ['0', '1']) writeFileSync(join(dir, name), fernetKey(), { mode: 0o600 });
}

interface KeystoneConfig {
  dir: string;
  tokenExpirationSeconds: number;
  passwordHashRounds: number;
}

function keystoneConf(c: KeystoneConfig): string {
  return [
    '[DEFAULT]',
    `log_file = ${join(c.dir, 'keystone.log')}`,
    'use_stderr = false',
    '[database]',
    // Four slashes: sqlite:/// plus the absolute path.
    `connection = sqlite:///${join(c.dir, 'keystone.db')}`,
    '[token]',
    'provider = fernet',
    `expiration = ${c.tokenExpirationSeconds}`,
    '[fernet_tokens]',
    `key_repository = ${join(c.dir, 'fernet-keys')}`,
    '[fernet_receipts]',
    `key_repository = ${join(c.dir, 'fernet-keys')}`,
    '[credential]',
    `key_repository = ${join(c.dir, 'credential-keys')}`,
    '[identity]',
    `password_hash_rounds = ${c.passwordHashRounds}`,
    '[cache]',
    'enabled = true',
    'backend = dogpile.cache.memory',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Debian packages and the per-machine cache

let packagesChecked = false;

/**
 * Makes sure python3-keystone, uwsgi-plugin-python3 and sqlite3 are installed: as root it installs
 * what is missing (waiting up to 15 min for another apt run's lock), otherwise it says what to install.
 */
export function ensureKeystonePackages(): void {
  if (packagesChecked) return;
  const missing = REQUIRED.filter((r) => !existsSync(r.path)).map((r) => r.pkg);
  if (missing.length > 0) {
    if (process.getuid?.() !== 0) {
      throw new Error(
        `KeystoneBench: missing Debian packages; install them: apt-get install -y --no-install-recommends ${missing.join(' ')}`,
      );
    }
    process.stderr.write(`keystone bench: installing ${missing.join(' ')}\n`);
    const install = () =>
      execFileSync(
        'apt-get',
        ['install', '-y', '-qq', '-o', 'DPkg::Lock::Timeout=900', '--no-install-recommends', ...missing],
        {
          stdio: ['ignore', 'ignore', 'inherit'],
          env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
        },
      );
    try {
      install();
    } catch {
      // Stale package lists on a fresh machine.
      execFileSync('apt-get', ['update', '-qq', '-o', 'DPkg::Lock::Timeout=900'], { stdio: 'inherit' });
      install();
    }
  }
  packagesChecked = true;
}

/** The installed python3-keystone version, e.g. "2:22.0.2-0+deb12u6". */
export function keystoneVersion(): string {
  return execFileSync('dpkg-query', ['-W', '-f=${Version}', 'python3-keystone'], { encoding: 'utf8' }).trim();
}

export interface KeystoneCache {
  /** Directory holding keystone.db (bootstrapped, WAL mode) and ready.json. */
  dir: string;
  version: string;
  /** Whether this call built it (first start on a machine: ≈12 s). */
  built: boolean;
  ms: number;
}

/** What the cache build records next to the database. */
interface CacheReady {
  version: string;
  recipe: number;
  builtAt: string;
  buildMs: number;
}

let cachePromise: Promise<KeystoneCache> | undefined;

/**
 * The bootstrapped database for this machine's Keystone version, built on first use. Safe when
 * several processes (jest workers, parallel runs) ask at once: a lock file lets one build while the
 * others wait, and the build lands with an atomic rename, so a reader never sees half a cache even if
 * the lock holder was killed and someone else took over.
 */
export function ensureKeystoneTemplate(options: { timeoutMs?: number } = {}): Promise<KeystoneCache> {
  if (!cachePromise) {
    const building = buildCache(options.timeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    cachePromise = building;
    building.then(
      // Later callers were not the ones who waited for the build.
      (cache) => (cachePromise = Promise.resolve({ ...cache, built: false, ms: 0 })),
      () => (cachePromise = undefined),
    );
  }
  return cachePromise;
}

async function buildCache(timeoutMs: number): Promise<KeystoneCache> {
  const started = Date.now();
  ensureKeystonePackages();
  const version = keystoneVersion();
  const dir = join(CACHE_ROOT, `${version.replace(/[^A-Za-z0-9.+-]+/g, '_')}-r${CACHE_RECIPE}`);
  const ready = () => existsSync(join(dir, CACHE_READY)) && existsSync(join(dir, 'keystone.db'));
  if (ready()) return { dir, version, built: false, ms: Date.now() - started };
  mkdirSync(CACHE_ROOT, { recursive: true });
  removeStaleCacheBuilds();

  const lock = join(CACHE_ROOT, CACHE_LOCK);
  const deadline = Date.now() + CACHE_LOCK_WAIT_MS;
  for (;;) {
    if (ready()) return { dir, version, built: false, ms: Date.now() - started };
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(readFileSync(lock, 'utf8').trim() || 0);
    if (owner && !isAlive(owner)) {
      rmSync(lock, { force: true }); // its builder was killed; whoever creates the lock next builds
      continue;
    }
    if (Date.now() > deadline) throw new Error(`KeystoneBench: ${lock} (pid ${owner}) held too long`);
    await sleep(200);
  }
  try {
    if (ready()) return { dir, version, built: false, ms: Date.now() - started };
    const build = mkdtempSync(join(CACHE_ROOT, `.build-${process.pid}-`));
    try {
      const buildMs = await bootstrapInto(build, {
        port: 5000, // placeholder: each bench rewrites the endpoint URLs
        password: randomBytes(16).toString('hex'),
        tokenExpirationSeconds: DEFAULT_TOKEN_EXPIRATION_S,
        passwordHashRounds: DEFAULT_PASSWORD_HASH_ROUNDS,
        timeoutMs,
      });
      // Only the database is reused: keys, config and log belong to one bench.
      for (const entry of readdirSync(build)) {
        if (entry !== 'keystone.db') rmSync(join(build, entry), { recursive: true, force: true });
      }
      const info: CacheReady = { version, recipe: CACHE_RECIPE, builtAt: new Date().toISOString(), buildMs };
      writeFileSync(join(build, CACHE_READY), JSON.stringify(info, null, 2));
      rmSync(dir, { recursive: true, force: true }); // an incomplete one (no ready.json)
      renameSync(build, dir);
    } catch (error) {
      rmSync(build, { recursive: true, force: true });
      throw error;
    }
    return { dir, version, built: true, ms: Date.now() - started };
  } finally {
    try {
      if (readFileSync(lock, 'utf8').trim() === String(process.pid)) unlinkSync(lock);
    } catch {
      // already removed
    }
  }
}

/** Build directories of cache builders that were killed. */
function removeStaleCacheBuilds(): void {
  for (const entry of readdirSync(CACHE_ROOT)) {
    const owner = Number(/^\.build-(\d+)-/.exec(entry)?.[1]);
    if (owner && !isAlive(owner)) rmSync(join(CACHE_ROOT, entry), { recursive: true, force: true });
  }
}

interface BootstrapOptions {
  port: number;
  password: string;
  tokenExpirationSeconds: number;
  passwordHashRounds: number;
  timeoutMs: number;
}

/**
 * The documented cold sequence in `dir`: keystone.conf, then db_sync, fernet_setup and
 * credential_setup (independent: run together, ≈6 s instead of ≈16 s), then bootstrap (admin user,
 * project admin, roles admin/member/reader, region and identity endpoints), then WAL mode — without
 * it concurrent writes fail with "database is locked". Returns the milliseconds it took.
 */
async function bootstrapInto(dir: string, o: BootstrapOptions): Promise<number> {
  const started = Date.now();
  const conf = join(dir, 'keystone.conf');
  writeFileSync(conf, keystoneConf({ dir, ...o }));
  const manage = (what: string, ...args: string[]) =>
    run('/usr/bin/keystone-manage', ['--config-file', conf, ...args], {
      cwd: dir,
      timeoutMs: o.timeoutMs,
      what: `keystone-manage ${what}`,
    });
  const owner = ['--keystone-user', 'root', '--keystone-group', 'root'];
  if (process.getuid?.() !== 0) {
    // keystone-manage chowns the key repositories to this user and group.
    const user = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
    const group = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
    owner.splice(0, owner.length, '--keystone-user', user, '--keystone-group', group);
  }
  mkdirSync(join(dir, 'fernet-keys'), { mode: 0o700 });
  mkdirSync(join(dir, 'credential-keys'), { mode: 0o700 });
  await Promise.all([
    manage('db_sync', 'db_sync'),
    manage('fernet_setup', 'fernet_setup', ...owner),
    manage('credential_setup', 'credential_setup', ...owner),
  ]);
  const url = `http://127.0.0.1:${o.port}/v3/`;
  await manage(
    'bootstrap',
    'bootstrap',
    '--bootstrap-password',
    o.password,
    '--bootstrap-username',
    ADMIN.user,
    '--bootstrap-project-name',
    ADMIN.project,
    '--bootstrap-role-name',
    ADMIN.role,
    '--bootstrap-region-id',
    ADMIN.region,
    '--bootstrap-admin-url',
    url,
    '--bootstrap-internal-url',
    url,
    '--bootstrap-public-url',
    url,
  );
  await run('sqlite3', [join(dir, 'keystone.db'), 'PRAGMA journal_mode=WAL;'], {
    timeoutMs: o.timeoutMs,
    what: 'sqlite3 PRAGMA journal_mode=WAL',
  });
  return Date.now() - started;
}

/**
 * Makes a copy of the cached database this bench's own: the admin password (hashed with bcrypt like
 * Keystone's passlib does, `$2b$`), the endpoint URLs (the port). One Python process, ≈0.3 s.
 */
const PERSONALIZE_PY = `
import sqlite3, sys, bcrypt
db, password, rounds, url = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()
c = sqlite3.connect(db)
n = c.execute("UPDATE password SET password_hash = ? WHERE local_user_id IN "
              "(SELECT id FROM local_user WHERE name = ? AND domain_id = ?)", (hashed, ${JSON.stringify(ADMIN.user)}, ${JSON.stringify(DEFAULT_DOMAIN)})).rowcount
if n != 1:
    sys.exit("expected one password row for the admin user, found %d" % n)
c.execute("UPDATE endpoint SET url = ?", (url,))
c.commit()
mode = c.execute("PRAGMA journal_mode=WAL").fetchone()[0]
if mode != "wal":
    sys.exit("journal_mode is %s" % mode)
c.close()
`;

// ---------------------------------------------------------------------------------------------
// The bench

/** Thrown when uWSGI found its port taken (someone bound it between our check and its bind). */
class PortInUseError extends Error {}

/**
 * A real Keystone (identity v3) on 127.0.0.1 with its own SQLite database, keys and admin password;
 * see the file comment for the choices. `url` is http://127.0.0.1:PORT/v3.
 *
 * The admin helpers speak Keystone's REST API with an admin token (project `admin`, domain
 * `default`); they return ids and throw {@link KeystoneBenchError} on unexpected answers, except
 * {@link validate}, which returns the status so tests can assert denials.
 *
 * Start it on the main thread: pdeathsig fires when the spawning *thread* ends.
 */
export class KeystoneBench {
  readonly dir: string;
  readonly port: number;
  /** http://127.0.0.1:PORT/v3 */
  readonly url: string;
  readonly adminUsername = ADMIN.user;
  readonly adminProjectName = ADMIN.project;
  readonly adminPassword: string;
  readonly timings: KeystoneBenchTimings = {
    cached: false,
    cacheBuildMs: 0,
    prepareMs: 0,
    serverMs: 0,
    totalMs: 0,
  };
  /** Milliseconds start() took (timings.totalMs). */
  startMs = 0;

  private readonly confPath: string;
  private readonly logPath: string;
  private readonly startTimeoutMs: number;
  private readonly workers: number;
  private readonly history: Array<{ name: string; pid: number }> = [];
  private server: BenchChild | undefined;
  private paused = false;
  private adminToken: { token: string; refreshAt: number } | undefined;
  private readonly roleIds = new Map<string, string>();
  private stopPromise: Promise<void> | undefined;

  private constructor(
    dir: string,
    port: number,
    adminPassword: string,
    startTimeoutMs: number,
    workers: number,
  ) {
    this.dir = dir;
    this.workers = workers;
    this.port = port;
    this.url = `http://127.0.0.1:${port}/v3`;
    this.adminPassword = adminPassword;
    this.confPath = join(dir, 'keystone.conf');
    this.logPath = join(dir, 'uwsgi.log');
    this.startTimeoutMs = startTimeoutMs;
  }

  /** Prepares a Keystone (from the cache unless `cache: false`) and starts it; resolves once `GET /v3` answers. */
  static async start(options: KeystoneBenchOptions = {}): Promise<KeystoneBench> {
    if (!isMainThread) {
      throw new Error('KeystoneBench: start it on the main thread (jest: no workerThreads)');
    }
    const started = Date.now();
    const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const rounds = options.passwordHashRounds ?? DEFAULT_PASSWORD_HASH_ROUNDS;
    if (!Number.isInteger(rounds) || rounds < 4 || rounds > 31) {
      throw new Error(`KeystoneBench: passwordHashRounds must be 4..31 (bcrypt), got ${rounds}`);
    }
    const expiration = options.tokenExpirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_S;
    if (!Number.isInteger(expiration) || expiration < 1) {
      throw new Error(`KeystoneBench: tokenExpirationSeconds must be a positive integer, got ${expiration}`);
    }
    const workers = options.processes ?? 1;
    if (!Number.isInteger(workers) || workers < 1) {
      throw new Error(`KeystoneBench: processes must be a positive integer, got ${workers}`);
    }
    ensureKeystonePackages();
    installExitHook();
    cleanupLeftoverKeystoneBenches();
    const useCache = options.cache ?? true;
    const cache = useCache ? await ensureKeystoneTemplate({ timeoutMs }) : undefined;

    const tmp = join(repoRoot, 'tmp');
    mkdirSync(tmp, { recursive: true });
    const dir = mkdtempSync(join(tmp, `${DIR_PREFIX}${process.pid}-`));
    writeBenchFile(dir, []);
    const prepareStarted = Date.now();
    const password = randomBytes(16).toString('hex');
    try {
      for (let attempt = 1; ; attempt++) {
        const port = options.port ?? (await freePort());
        const bench = new KeystoneBench(dir, port, password, timeoutMs, workers);
        bench.timings.cached = useCache;
        bench.timings.cacheBuildMs = cache?.built ? cache.ms : 0;
        if (attempt === 1) {
          const config = { dir, tokenExpirationSeconds: expiration, passwordHashRounds: rounds };
          if (cache) {
            copyFileSync(join(cache.dir, 'keystone.db'), join(dir, 'keystone.db'));
            writeFileSync(bench.confPath, keystoneConf(config));
            writeKeyRepository(join(dir, 'fernet-keys'));
            writeKeyRepository(join(dir, 'credential-keys'));
          } else {
            await bootstrapInto(dir, { ...config, port, password, timeoutMs });
          }
        }
        // The endpoint URLs carry the port, so they are rewritten on every attempt (also cold: a
        // retry on another port keeps the database bootstrap made).
        if (cache || attempt > 1) {
          await run(
            SYSTEM_PYTHON,
            ['-c', PERSONALIZE_PY, join(dir, 'keystone.db'), password, String(rounds), `${bench.url}/`],
            {
              timeoutMs,
              what: 'preparing the database copy',
            },
          );
        }
        bench.timings.prepareMs = Date.now() - prepareStarted;
        const serverStarted = Date.now();
        try {
          await bench.startServer();
        } catch (error) {
          if (error instanceof PortInUseError && options.port === undefined && attempt < PORT_ATTEMPTS)
            continue;
          throw error;
        }
        bench.timings.serverMs = Date.now() - serverStarted;
        bench.timings.totalMs = Date.now() - started;
        bench.startMs = bench.timings.totalMs;
        if (process.env.KEYSTONE_BENCH_DEBUG) {
          const t = bench.timings;
          process.stderr.write(
            `keystone bench ${dir}: ${t.cached ? 'cached' : 'cold'}, prepare ${t.prepareMs} ms, server ${t.serverMs} ms, total ${t.totalMs} ms\n`,
          );
        }
        return bench;
      }
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Pid of the running uWSGI process (undefined while stopped). */
  get pid(): number | undefined {
    return this.server && !this.server.exit ? this.server.pid : undefined;
  }

  /** The running server process with its resident memory (VmRSS). */
  processes(): Array<{ name: string; pid: number; rssBytes: number }> {
    const pid = this.pid;
    return pid ? [{ name: 'keystone (uwsgi)', pid, rssBytes: rssBytes(pid) }] : [];
  }

  /** The tail of uWSGI's output and of keystone.log, for failure messages. */
  logTail(): string {
    return `uwsgi.log:\n${tail(this.logPath)}\nkeystone.log:\n${tail(join(this.dir, 'keystone.log'))}`;
  }

  // ------------------------------------------------------------------------- server control

  /**
   * Stops the server (SIGKILL by default: a crash; SIGTERM: uWSGI's orderly exit) and waits until it
   * is gone: connections to the port are refused from then on. The data stays for startServer().
   */
  async stopServer(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const server = this.server;
    const paused = this.paused;
    this.server = undefined;
    this.paused = false;
    this.adminToken = undefined;
    if (!server || server.exit) return;
    server.process.ref(); // keep the event loop alive while we wait for the exit
    try {
      if (paused) server.process.kill('SIGCONT');
      server.process.kill(signal);
      const timer = setTimeout(() => server.process.kill('SIGKILL'), 5_000);
      await server.exited;
      clearTimeout(timer);
    } finally {
      server.process.unref();
    }
    // One process: its socket closed with it. With a master, workers notice its death a little later.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const open = await fetch(this.url, { signal: AbortSignal.timeout(500) }).then(
        (res) => res.arrayBuffer().then(() => true),
        () => false,
      );
      if (!open) return;
      await sleep(PROBE_INTERVAL_MS);
    }
    throw new Error(`KeystoneBench: port ${this.port} still answers after the server was stopped`);
  }

  /** Starts the server again on the same port with the same data and keys; resolves once it answers. */
  async startServer(): Promise<void> {
    this.assertRunning();
    if (this.server && !this.server.exit) throw new Error('KeystoneBench: the server is already running');
    const server = spawnBenchChild({
      name: 'uwsgi',
      command: 'uwsgi_python3',
      args: [
        '--http-socket',
        `127.0.0.1:${this.port}`,
        '--wsgi-file',
        '/usr/bin/keystone-wsgi-public',
        '--env',
        `OS_KEYSTONE_CONFIG_FILES=${this.confPath}`,
        // See the file comment: one process unless asked otherwise (then a master manages them).
        ...(this.workers > 1 ? ['--master', '--processes', String(this.workers)] : ['--processes', '1']),
        '--threads',
        String(UWSGI_THREADS),
        '--need-app', // exit if Keystone fails to load rather than answer 500 forever
        '--die-on-term',
        '--buffer-size',
        '65535',
        '--add-header',
        'Connection: close',
      ],
      cwd: this.dir,
      env: pythonEnv(),
      logPath: this.logPath,
      cannotStart: 'KeystoneBench: cannot start uwsgi_python3 under setpriv',
    });
    const logOffset = server.logOffset;
    this.server = server;
    this.history.push({ name: 'uwsgi', pid: server.pid });
    writeBenchFile(this.dir, this.history);

    const deadline = Date.now() + this.startTimeoutMs;
    let last = 'no answer yet';
    for (;;) {
      if (server.exit) {
        const log = tail(this.logPath, logOffset);
        const message = `KeystoneBench: uwsgi ${server.exit} before it was ready (last probe: ${last}); ${this.logPath}:\n${log}`;
        if (/Address already in use/i.test(log)) throw new PortInUseError(message);
        throw new Error(message);
      }
      try {
        const res = await fetch(this.url, { signal: AbortSignal.timeout(5_000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
        last = `GET /v3 ${res.status}`;
      } catch (error) {
        last = (error as Error).message;
      }
      if (Date.now() > deadline) {
        await this.stopServer();
        throw new Error(
          `KeystoneBench: not answering within ${this.startTimeoutMs} ms (last probe: ${last}); ${this.logPath}:\n${tail(this.logPath, logOffset)}`,
        );
      }
      await sleep(PROBE_INTERVAL_MS);
    }
  }

  /**
   * Freezes the server (SIGSTOP): the port still accepts connections but nothing answers, as with a
   * hung Keystone — clients see timeouts rather than refused connections. resume() continues it.
   */
  pause(): void {
    if (!this.server || this.server.exit) throw new Error('KeystoneBench: the server is not running');
    this.server.process.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (!this.server || this.server.exit) throw new Error('KeystoneBench: the server is not running');
    this.server.process.kill('SIGCONT');
    this.paused = false;
  }

  /** Kills the server and removes the directory (database, keys, logs). Idempotent. */
  stop(): Promise<void> {
    this.stopPromise ??= (async () => {
      await this.stopServer('SIGKILL');
      rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.stopPromise;
  }

  // ------------------------------------------------------------------------- tokens

  /**
   * POST /v3/auth/tokens with a password (user and project in domain `default` unless given):
   * project-scoped with `projectName` or `projectId`, unscoped otherwise.
   */
  async issueToken(request: {
    username: string;
    password: string;
    projectName?: string;
    projectId?: string;
    domainId?: string;
  }): Promise<IssuedKeystoneToken> {
    const domain = { id: request.domainId ?? DEFAULT_DOMAIN };
    const scope = request.projectId
      ? { project: { id: request.projectId } }
      : request.projectName
        ? { project: { name: request.projectName, domain } }
        : undefined;
    const res = await fetch(`${this.url}/auth/tokens?nocatalog`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: request.username, domain, password: request.password } },
          },
          ...(scope ? { scope } : {}),
        },
      }),
    });
    const text = await res.text();
    const token = res.headers.get('x-subject-token');
    if (res.status !== 201 || !token) {
      throw new KeystoneBenchError(
        `KeystoneBench: token for ${request.username}: ${res.status} ${short(text)}`,
        res.status,
        text,
      );
    }
    const body = JSON.parse(text) as KeystoneTokenBody;
    return {
      token,
      expiresAt: body.token.expires_at,
      userId: body.token.user.id,
      projectId: body.token.project?.id,
      body,
    };
  }

  /**
   * GET /v3/auth/tokens?nocatalog: validates `token` with `authToken` (default: an admin token) the
   * way a service does (X-Auth-Token = its own token, X-Subject-Token = the user's).
   */
  async validate(
    token: string,
    options: { authToken?: string; allowExpired?: boolean } = {},
  ): Promise<TokenValidation> {
    const query = options.allowExpired ? '?nocatalog&allow_expired=1' : '?nocatalog';
    const send = async (authToken: string) =>
      fetch(`${this.url}/auth/tokens${query}`, {
        headers: { 'X-Auth-Token': authToken, 'X-Subject-Token': token },
      });
    let res = await send(options.authToken ?? (await this.admin()));
    if (res.status === 401 && !options.authToken) {
      await res.arrayBuffer();
      this.adminToken = undefined;
      res = await send(await this.admin());
    }
    const text = await res.text();
    return res.status === 200
      ? { status: 200, body: JSON.parse(text) as KeystoneTokenBody }
      : { status: res.status };
  }

  /** DELETE /v3/auth/tokens: revokes `token`; later validations answer 404. */
  async revokeToken(token: string): Promise<void> {
    await this.adminCall('DELETE', '/auth/tokens', undefined, [204], { 'X-Subject-Token': token });
  }

  // ------------------------------------------------------------------------- admin helpers

  /** Creates a project (domain `default` unless given) and returns its id. */
  async createProject(
    name: string,
    options: { domainId?: string; description?: string } = {},
  ): Promise<string> {
    const body = await this.adminCall<{ project: { id: string } }>('POST', '/projects', {
      project: {
        name,
        domain_id: options.domainId ?? DEFAULT_DOMAIN,
        description: options.description ?? '',
      },
    });
    return body.project.id;
  }

  /** Id of the project named `name` (domain `default` unless given); throws if there is none. */
  projectId(name: string, options: { domainId?: string } = {}): Promise<string> {
    return this.idByName('projects', 'project', name, options.domainId);
  }

  /** Creates a user (domain `default` unless given) with a password and returns its id. */
  async createUser(
    name: string,
    password: string,
    options: { defaultProjectId?: string; domainId?: string; email?: string } = {},
  ): Promise<string> {
    const body = await this.adminCall<{ user: { id: string } }>('POST', '/users', {
      user: {
        name,
        password,
        domain_id: options.domainId ?? DEFAULT_DOMAIN,
        enabled: true,
        ...(options.defaultProjectId ? { default_project_id: options.defaultProjectId } : {}),
        ...(options.email ? { email: options.email } : {}),
      },
    });
    return body.user.id;
  }

  /** Id of the user named `name` (domain `default` unless given); throws if there is none. */
  userId(name: string, options: { domainId?: string } = {}): Promise<string> {
    return this.idByName('users', 'user', name, options.domainId);
  }

  /** Id of the project or user named `name` in a domain (`default` unless given); throws if there is none. */
  private async idByName(
    collection: 'projects' | 'users',
    kind: string,
    name: string,
    domainId = DEFAULT_DOMAIN,
  ): Promise<string> {
    const query = `?name=${encodeURIComponent(name)}&domain_id=${encodeURIComponent(domainId)}`;
    const body = await this.adminCall<Record<string, Array<{ id: string }>>>('GET', `/${collection}${query}`);
    const id = body[collection][0]?.id;
    if (!id) throw new KeystoneBenchError(`KeystoneBench: no ${kind} ${JSON.stringify(name)}`, 404, '');
    return id;
  }

  /** Enables or disables a user (a disabled user's tokens stop validating). */
  async setUserEnabled(userId: string, enabled: boolean): Promise<void> {
    await this.adminCall('PATCH', `/users/${userId}`, { user: { enabled } });
  }

  /** Deletes a user (its tokens stop validating). */
  async deleteUser(userId: string): Promise<void> {
    await this.adminCall('DELETE', `/users/${userId}`, undefined, [204]);
  }

  /** Id of the global role `name`, created if it does not exist yet (admin, member and reader always do). */
  async ensureRole(name: string): Promise<string> {
    const known = this.roleIds.get(name);
    if (known) return known;
    const find = async () =>
      (
        await this.adminCall<{ roles: Array<{ id: string }> }>(
          'GET',
          `/roles?name=${encodeURIComponent(name)}`,
        )
      ).roles[0]?.id;
    let id = await find();
    if (!id) {
      try {
        id = (await this.adminCall<{ role: { id: string } }>('POST', '/roles', { role: { name } })).role.id;
      } catch (error) {
        // Someone else created it meanwhile.
        if (!(error instanceof KeystoneBenchError && error.status === 409)) throw error;
        id = await find();
      }
    }
    if (!id) throw new Error(`KeystoneBench: role ${name} neither found nor created`);
    this.roleIds.set(name, id);
    return id;
  }

  /** Grants `roleName` (created if needed) to the user on the project. Idempotent. */
  async assignRole(a: { userId: string; projectId: string; roleName: string }): Promise<void> {
    const roleId = await this.ensureRole(a.roleName);
    await this.adminCall(
      'PUT',
      `/projects/${a.projectId}/users/${a.userId}/roles/${roleId}`,
      undefined,
      [204],
    );
  }

  /** Removes the grant; Keystone also revokes the user's tokens for that project. */
  async unassignRole(a: { userId: string; projectId: string; roleName: string }): Promise<void> {
    const roleId = await this.ensureRole(a.roleName);
    await this.adminCall(
      'DELETE',
      `/projects/${a.projectId}/users/${a.userId}/roles/${roleId}`,
      undefined,
      [204],
    );
  }

  /**
   * The gateway's own Keystone account: user `stratum-gateway` (random password) with `roleName`
   * (default `admin`) on project `service`, both in domain `default`. With it the gateway gets its
   * service token and validates users' tokens (X-Auth-Token + X-Subject-Token). `admin` because the
   * gateway also lists projects, users and role assignments; `service` alone only allows validation
   * (see the file comment for what was measured).
   */
  async createServiceUser(
    options: { username?: string; password?: string; projectName?: string; roleName?: string } = {},
  ): Promise<KeystoneServiceUser> {
    const username = options.username ?? 'stratum-gateway';
    const password = options.password ?? randomBytes(16).toString('hex');
    const projectName = options.projectName ?? 'service';
    const roleName = options.roleName ?? 'admin';
    let projectId: string;
    try {
      projectId = await this.createProject(projectName, { description: 'Service accounts' });
    } catch (error) {
      if (!(error instanceof KeystoneBenchError && error.status === 409)) throw error;
      projectId = await this.projectId(projectName);
    }
    const userId = await this.createUser(username, password, { defaultProjectId: projectId });
    await this.assignRole({ userId, projectId, roleName });
    return {
      username,
      password,
      userId,
      project: projectName,
      projectName,
      projectId,
      domainId: DEFAULT_DOMAIN,
      roleName,
    };
  }

  /**
   * One admin API call; resolves with the parsed body. Throws {@link KeystoneBenchError} unless the
   * status is in `expect` (default 200 and 201). A 401 (expired admin token) gets a fresh token once.
   */
  async adminCall<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    expect: number[] = [200, 201],
    headers: Record<string, string> = {},
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const res = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          'X-Auth-Token': await this.admin(),
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          ...headers,
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      if (res.status === 401 && attempt === 1) {
        this.adminToken = undefined;
        continue;
      }
      if (!expect.includes(res.status)) {
        throw new KeystoneBenchError(
          `KeystoneBench: ${method} ${path}: ${res.status} ${short(text)}`,
          res.status,
          text,
        );
      }
      return (text ? JSON.parse(text) : undefined) as T;
    }
  }

  /** A project-scoped admin token, reused until shortly before it expires. */
  private async admin(): Promise<string> {
    if (this.adminToken && Date.now() < this.adminToken.refreshAt) return this.adminToken.token;
    const issued = await this.issueToken({
      username: ADMIN.user,
      password: this.adminPassword,
      projectName: ADMIN.project,
    });
    const lifetime = Date.parse(issued.expiresAt) - Date.now();
    this.adminToken = { token: issued.token, refreshAt: Date.now() + lifetime * 0.8 };
    return issued.token;
  }

  private assertRunning(): void {
    if (this.stopPromise) throw new Error('KeystoneBench: already stopped');
  }
}

function short(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/**
 * Kills the servers of benches whose owner process is gone (a test run that was killed) and removes
 * their directories under `root` (default: the repo's tmp/). Benches of live processes are left
 * alone. Returns the directories removed.
 */
export function cleanupLeftoverKeystoneBenches(root = join(repoRoot, 'tmp')): string[] {
  // The config path is on uWSGI's command line: cleanupLeftoverBenches() recognises it by that.
  return cleanupLeftoverBenches(DIR_PREFIX, root, (dir) => {
    try {
      // Benches of the first version of this file recorded uWSGI's master in uwsgi.pid.
      return [{ name: 'uwsgi', pid: Number(readFileSync(join(dir, 'uwsgi.pid'), 'utf8').trim()) }];
    } catch {
      return []; // no such file
    }
  });
}
