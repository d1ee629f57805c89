/**
 * A real OpenStack Keystone for integration tests (issue #6): Debian's python3-keystone served by
 * uWSGI on loopback, SQLite and Fernet tokens in a directory of its own (see
 * ../shared/notes/test-bench.md, "Keystone").
 *
 * Bootstrapping Keystone (db_sync, fernet_setup, credential_setup, bootstrap) takes ≈17 s here, so it
 * is done once per machine into tools/bench-bin/keystone/<version>/ (ignored by git) and copied into
 * each bench; a bench then starts in ≈2–3 s. The bootstrap's endpoint URLs name a port that is not the
 * bench's: callers use `?nocatalog` and never the catalog.
 *
 * Children run under `setpriv --pdeathsig SIGKILL` so they die with the test process; benches left
 * by a killed run are removed by cleanupLeftoverKeystoneBenches() (called on start).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { freePort, isAlive, repoRoot } from './process';

const DIR_PREFIX = 'keystone-bench-';
const ADMIN_PASSWORD = 'stratum-bench-admin';
const TEMPLATE_ROOT = join(repoRoot, 'tools', 'bench-bin', 'keystone');

export interface KeystoneBenchOptions {
  /** Token lifetime in seconds (Keystone's `[token] expiration`); default 3600. */
  tokenExpirationSeconds?: number;
  /** uWSGI worker processes; default 2 (validations go on while a bcrypt login runs). */
  processes?: number;
}

export interface IssuedKeystoneToken {
  token: string;
  expiresAt: string;
  userId: string;
  projectId?: string;
}

function keystoneVersion(): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', 'python3-keystone'], { encoding: 'utf8' })
      .trim()
      .replace(/[^A-Za-z0-9.+-]/g, '_');
  } catch {
    throw new Error(
      'KeystoneBench: python3-keystone is not installed (apt-get install -y --no-install-recommends python3-keystone uwsgi-plugin-python3); .ci/run installs it',
    );
  }
}

function config(dir: string, expiration: number): string {
  return [
    '[DEFAULT]',
    `log_dir = ${dir}`,
    '[database]',
    `connection = sqlite:///${join(dir, 'keystone.db')}`,
    '[token]',
    'provider = fernet',
    `expiration = ${expiration}`,
    '[fernet_tokens]',
    `key_repository = ${join(dir, 'fernet')}`,
    '[credential]',
    `key_repository = ${join(dir, 'credential')}`,
    '[cache]',
    'enabled = true',
    'backend = dogpile.cache.memory',
    '',
  ].join('\n');
}

/**
 * The bootstrapped database and key repositories, built once per machine and Keystone version. Safe
 * for concurrent callers: built in a private directory, published by an atomic rename.
 */
export function ensureKeystoneTemplate(): { dir: string; built: boolean; ms: number } {
  const started = Date.now();
  const dir = join(TEMPLATE_ROOT, keystoneVersion());
  if (existsSync(join(dir, 'ready'))) return { dir, built: false, ms: 0 };
  mkdirSync(TEMPLATE_ROOT, { recursive: true });
  const work = mkdtempSync(join(TEMPLATE_ROOT, `.build-${process.pid}-`));
  try {
    mkdirSync(join(work, 'fernet'));
    mkdirSync(join(work, 'credential'));
    const conf = join(work, 'keystone.conf');
    writeFileSync(conf, config(work, 3600));
    const manage = (...args: string[]) =>
      execFileSync('keystone-manage', ['--config-file', conf, ...args], { stdio: 'ignore', cwd: work });
    manage('db_sync');
    manage('fernet_setup', '--keystone-user', 'root', '--keystone-group', 'root');
    manage('credential_setup', '--keystone-user', 'root', '--keystone-group', 'root');
    const url = 'http://127.0.0.1:5000/v3/';
    manage(
      'bootstrap',
      '--bootstrap-password',
      ADMIN_PASSWORD,
      '--bootstrap-admin-url',
      url,
      '--bootstrap-internal-url',
      url,
      '--bootstrap-public-url',
      url,
      '--bootstrap-region-id',
      'RegionOne',
    );
    // Without WAL, concurrent writes fail with "database is locked" (the notes). Persistent in the file.
    execFileSync('sqlite3', [join(work, 'keystone.db'), 'PRAGMA journal_mode=WAL;'], { stdio: 'ignore' });
    writeFileSync(join(work, 'ready'), new Date().toISOString());
    try {
      renameSync(work, dir);
    } catch (error) {
      // Another process published it first.
      if (!existsSync(join(dir, 'ready'))) throw error;
      rmSync(work, { recursive: true, force: true });
    }
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
  return { dir, built: true, ms: Date.now() - started };
}

/** Kills and removes benches whose owning process is gone (a killed test run). */
export function cleanupLeftoverKeystoneBenches(root = join(repoRoot, 'tmp')): string[] {
  if (!existsSync(root)) return [];
  const removed: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || !entry.name.startsWith(DIR_PREFIX)) continue;
    const owner = Number(/^keystone-bench-(\d+)-/.exec(entry.name)?.[1]);
    if (!owner || isAlive(owner)) continue;
    const dir = join(root, entry.name);
    try {
      const pid = Number(readFileSync(join(dir, 'uwsgi.pid'), 'utf8'));
      if (pid && isAlive(pid)) process.kill(pid, 'SIGKILL');
    } catch {
      // no pid file, or gone
    }
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

/** A running Keystone with admin helpers over its REST API. */
export class KeystoneBench {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private adminToken: string | undefined;
  readonly adminPassword = ADMIN_PASSWORD;
  /** Milliseconds the last start took (template copy or build included). */
  startMs = 0;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly processes: number,
  ) {}

  /** `http://127.0.0.1:<port>/v3` */
  get url(): string {
    return `http://127.0.0.1:${this.port}/v3`;
  }

  static async start(options: KeystoneBenchOptions = {}): Promise<KeystoneBench> {
    const started = Date.now();
    cleanupLeftoverKeystoneBenches();
    const template = ensureKeystoneTemplate();
    const tmp = join(repoRoot, 'tmp');
    mkdirSync(tmp, { recursive: true });
    const dir = mkdtempSync(join(tmp, `${DIR_PREFIX}${process.pid}-`));
    for (const name of ['keystone.db', 'fernet', 'credential']) {
      cpSync(join(template.dir, name), join(dir, name), { recursive: true });
    }
    writeFileSync(join(dir, 'keystone.conf'), config(dir, options.tokenExpirationSeconds ?? 3600));
    const bench = new KeystoneBench(dir, await freePort(), options.processes ?? 2);
    try {
      await bench.startServer();
    } catch (error) {
      await bench.stop();
      throw error;
    }
    bench.startMs = Date.now() - started;
    return bench;
  }

  /** Starts uWSGI on the bench's port and waits until `GET /v3` answers. */
  async startServer(): Promise<void> {
    if (this.child) return;
    const log = openSync(join(this.dir, 'uwsgi.log'), 'a');
    let child: ChildProcess;
    try {
      child = spawn(
        'setpriv',
        [
          '--pdeathsig',
          'SIGKILL',
          '--',
          'uwsgi_python3',
          '--http-socket',
          `127.0.0.1:${this.port}`,
          '--wsgi-file',
          '/usr/bin/keystone-wsgi-public',
          '--env',
          `OS_KEYSTONE_CONFIG_FILES=${join(this.dir, 'keystone.conf')}`,
          '--master',
          '--processes',
          String(this.processes),
          '--threads',
          '1',
          '--die-on-term',
          '--buffer-size',
          '65535',
          '--pidfile',
          join(this.dir, 'uwsgi.pid'),
        ],
        { cwd: this.dir, stdio: ['ignore', log, log] },
      );
    } finally {
      closeSync(log);
    }
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const kill = () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
    process.once('exit', kill);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        this.child = undefined;
        throw new Error(`KeystoneBench: uWSGI exited: ${this.logTail()}`);
      }
      const ok = await fetch(`${this.url}`, { signal: AbortSignal.timeout(2_000) })
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`KeystoneBench: no answer in 30 s: ${this.logTail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops uWSGI (Keystone unreachable); the data stays for startServer(). */
  async stopServer(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    child.kill('SIGKILL');
    await this.exited;
    // uWSGI's workers follow their master; wait until the port refuses connections.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const open = await fetch(this.url, { signal: AbortSignal.timeout(500) }).then(
        () => true,
        () => false,
      );
      if (!open) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    await this.stopServer();
    rmSync(this.dir, { recursive: true, force: true });
  }

  logTail(): string {
    try {
      return readFileSync(join(this.dir, 'uwsgi.log'), 'utf8').slice(-2000);
    } catch {
      return '(no log)';
    }
  }

  // -------------------------------------------------------------------------------------------
  // Keystone's REST API

  /** A password login; project-scoped when a project is named. Throws on refusal. */
  async issueToken(input: {
    username: string;
    password: string;
    projectName?: string;
    projectId?: string;
  }): Promise<IssuedKeystoneToken> {
    const scope = input.projectId
      ? { project: { id: input.projectId } }
      : input.projectName
        ? { project: { name: input.projectName, domain: { id: 'default' } } }
        : undefined;
    const response = await fetch(`${this.url}/auth/tokens?nocatalog`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: input.username, domain: { id: 'default' }, password: input.password } },
          },
          ...(scope ? { scope } : {}),
        },
      }),
    });
    if (response.status !== 201) {
      throw new Error(`Keystone refused ${input.username}: ${response.status} ${await response.text()}`);
    }
    const body = (await response.json()) as {
      token: { expires_at: string; user: { id: string }; project?: { id: string } };
    };
    return {
      token: response.headers.get('x-subject-token')!,
      expiresAt: body.token.expires_at,
      userId: body.token.user.id,
      projectId: body.token.project?.id,
    };
  }

  private async admin(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    for (let attempt = 0; attempt < 2; attempt++) {
      this.adminToken ??= (
        await this.issueToken({ username: 'admin', password: ADMIN_PASSWORD, projectName: 'admin' })
      ).token;
      const response = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          'x-auth-token': this.adminToken,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      if (response.status !== 401) return response;
      this.adminToken = undefined;
    }
    throw new Error(`KeystoneBench: admin token refused for ${method} ${path}`);
  }

  private async adminJson<T>(method: string, path: string, body?: unknown, ok = [200, 201]): Promise<T> {
    const response = await this.admin(method, path, body);
    if (!ok.includes(response.status)) {
      throw new Error(`KeystoneBench: ${method} ${path} → ${response.status} ${await response.text()}`);
    }
    return (response.status === 204 ? undefined : await response.json()) as T;
  }

  async projectId(name: string): Promise<string> {
    const { projects } = await this.adminJson<{ projects: { id: string }[] }>(
      'GET',
      `/projects?name=${encodeURIComponent(name)}`,
    );
    if (!projects[0]) throw new Error(`KeystoneBench: no project ${name}`);
    return projects[0].id;
  }

  async createProject(name: string): Promise<string> {
    const { project } = await this.adminJson<{ project: { id: string } }>('POST', '/projects', {
      project: { name, domain_id: 'default', enabled: true },
    });
    return project.id;
  }

  async createUser(name: string, password: string): Promise<string> {
    const { user } = await this.adminJson<{ user: { id: string } }>('POST', '/users', {
      user: { name, password, domain_id: 'default', enabled: true },
    });
    return user.id;
  }

  private readonly roleIds = new Map<string, string>();

  /** The role's id, creating it when Keystone does not have it yet. */
  async ensureRole(name: string): Promise<string> {
    const known = this.roleIds.get(name);
    if (known) return known;
    const { roles } = await this.adminJson<{ roles: { id: string }[] }>(
      'GET',
      `/roles?name=${encodeURIComponent(name)}`,
    );
    const id =
      roles[0]?.id ??
      (await this.adminJson<{ role: { id: string } }>('POST', '/roles', { role: { name } })).role.id;
    this.roleIds.set(name, id);
    return id;
  }

  async assignRole(input: { userId: string; projectId: string; roleName: string }): Promise<void> {
    const roleId = await this.ensureRole(input.roleName);
    await this.adminJson(
      'PUT',
      `/projects/${input.projectId}/users/${input.userId}/roles/${roleId}`,
      undefined,
      [204],
    );
  }

  async unassignRole(input: { userId: string; projectId: string; roleName: string }): Promise<void> {
    const roleId = await this.ensureRole(input.roleName);
    await this.adminJson(
      'DELETE',
      `/projects/${input.projectId}/users/${input.userId}/roles/${roleId}`,
      undefined,
      [204],
    );
  }

  async revokeToken(token: string): Promise<void> {
    const revoke = await this.admin('DELETE', '/auth/tokens', undefined, { 'x-subject-token': token });
    if (revoke.status !== 204)
      throw new Error(`KeystoneBench: revoke → ${revoke.status} ${await revoke.text()}`);
  }

  /**
   * The gateway's own Keystone user: `admin` on a `service` project, as in a default deployment
   * (Keystone's default policy lets the admin role validate others' tokens and read role assignments).
   */
  async createServiceUser(): Promise<{
    username: string;
    password: string;
    project: string;
    userId: string;
  }> {
    const project = 'service';
    let projectId: string;
    try {
      projectId = await this.projectId(project);
    } catch {
      projectId = await this.createProject(project);
    }
    const username = `stratum-gateway-${this.port}`;
    const password = `svc-${this.port}-Secret`;
    const userId = await this.createUser(username, password);
    await this.assignRole({ userId, projectId, roleName: 'admin' });
    return { username, password, project, userId };
  }
}
