/**
 * Real container registries for integration tests (issue #6, R-AU-5): Docker Distribution 2.8 from
 * Debian's `docker-registry`, one process per registry, filesystem storage in a directory of its own,
 * optionally with token authentication against a realm (the gateway). And a small client that speaks
 * the registry's HTTP API and the token flow, so tests push and pull without Docker.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { freePort, isAlive, repoRoot } from './process';

export interface RegistryTokenAuth {
  /** Where clients get tokens (the gateway's /api/v1/auth/registry-token). */
  realm: string;
  /** This registry's name in tokens' `aud`. */
  service: string;
  issuer: string;
  /** PEM certificate(s) whose keys sign the tokens. */
  rootCertBundlePath: string;
}

/** Removes the directories of registries whose test process is gone (their processes died with it). */
export function cleanupLeftoverRegistryBenches(root = join(repoRoot, 'tmp')): void {
  if (!existsSync(root)) return;
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const owner = Number(/^registry-bench-(\d+)-/.exec(entry.name)?.[1]);
    if (entry.isDirectory() && owner && !isAlive(owner))
      rmSync(join(root, entry.name), { recursive: true, force: true });
  }
}

/** One running registry. */
export class RegistryBench {
  private constructor(
    readonly name: string,
    readonly dir: string,
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(options: { name: string; auth?: RegistryTokenAuth }): Promise<RegistryBench> {
    cleanupLeftoverRegistryBenches();
    const tmp = join(repoRoot, 'tmp');
    mkdirSync(tmp, { recursive: true });
    const dir = mkdtempSync(join(tmp, `registry-bench-${process.pid}-`));
    const port = await freePort();
    const lines = [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      ...(options.auth
        ? [
            'auth:',
            '  token:',
            `    realm: ${options.auth.realm}`,
            `    service: ${options.auth.service}`,
            `    issuer: ${options.auth.issuer}`,
            `    rootcertbundle: ${options.auth.rootCertBundlePath}`,
          ]
        : []),
      '',
    ];
    writeFileSync(join(dir, 'config.yml'), lines.join('\n'));
    const log = openSync(join(dir, 'registry.log'), 'a');
    let child: ChildProcess;
    try {
      child = spawn(
        'setpriv',
        ['--pdeathsig', 'SIGKILL', '--', 'docker-registry', 'serve', join(dir, 'config.yml')],
        {
          cwd: dir,
          stdio: ['ignore', log, log],
        },
      );
    } finally {
      closeSync(log);
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.once('exit', () => child.exitCode === null && child.kill('SIGKILL'));
    const bench = new RegistryBench(options.name, dir, port, child, exited);
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`RegistryBench ${options.name} exited: ${bench.logTail()}`);
      const status = await fetch(`${bench.url}/v2/`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200 || status === 401) return bench;
      if (Date.now() > deadline)
        throw new Error(`RegistryBench ${options.name}: no answer: ${bench.logTail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  logTail(): string {
    try {
      return readFileSync(join(this.dir, 'registry.log'), 'utf8').slice(-2000);
    } catch {
      return '(no log)';
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
    await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * An EC P-256 key and a self-signed certificate for the registries' token service, made with the
 * openssl CLI (Node can sign but not issue certificates). The registries trust the certificate
 * (`rootcertbundle`); the gateway signs with the key.
 */
export function makeRegistryTokenKeys(dir: string): { privateKeyPath: string; certificatePath: string } {
  const privateKeyPath = join(dir, 'registry-token.key');
  const certificatePath = join(dir, 'registry-token.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      privateKeyPath,
      '-out',
      certificatePath,
      '-days',
      '3650',
      '-subj',
      '/CN=stratum-gateway',
    ],
    { stdio: 'ignore' },
  );
  return { privateKeyPath, certificatePath };
}

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface RegistryCallResult {
  status: number;
  /** What the token service granted, when a token was needed. */
  granted?: Array<{ type: string; name: string; actions: string[] }>;
  body?: string;
  digest?: string;
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/**
 * The registry HTTP API v2 with the token flow of the Docker token-authentication spec: on a 401 with
 * a Bearer challenge, ask the realm (Basic credentials) for a token with the challenged scope and
 * retry once. Statuses are returned, not thrown: tests assert refusals.
 */
export class RegistryClient {
  private readonly tokens = new Map<string, { token: string; granted: RegistryCallResult['granted'] }>();

  constructor(
    readonly registryUrl: string,
    private readonly credentials: RegistryCredentials,
  ) {}

  private async token(
    challenge: string,
  ): Promise<{ token: string; granted: RegistryCallResult['granted'] } | undefined> {
    const params = Object.fromEntries(
      [...challenge.matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k!, v!]),
    ) as Record<string, string>;
    if (!params.realm) return undefined;
    const key = `${params.service} ${params.scope ?? ''}`;
    const cached = this.tokens.get(key);
    if (cached) return cached;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    if (params.scope) url.searchParams.set('scope', params.scope);
    const basic = Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64');
    const response = await fetch(url, { headers: { authorization: `Basic ${basic}` } });
    if (response.status !== 200) return undefined;
    const { token } = (await response.json()) as { token: string };
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
      access: RegistryCallResult['granted'];
    };
    const result = { token, granted: claims.access };
    this.tokens.set(key, result);
    return result;
  }

  /** One request, with the token flow when the registry challenges. */
  async request(
    method: string,
    path: string,
    init: { body?: Buffer; headers?: Record<string, string> } = {},
  ): Promise<RegistryCallResult & { response: Response }> {
    const url = path.startsWith('http') ? path : `${this.registryUrl}${path}`;
    let response = await fetch(url, { method, headers: init.headers, body: init.body, redirect: 'manual' });
    let granted: RegistryCallResult['granted'];
    const challenge = response.headers.get('www-authenticate');
    if (response.status === 401 && challenge?.startsWith('Bearer ')) {
      const token = await this.token(challenge);
      if (token) {
        granted = token.granted;
        response = await fetch(url, {
          method,
          headers: { ...init.headers, authorization: `Bearer ${token.token}` },
          body: init.body,
          redirect: 'manual',
        });
      }
    }
    return { status: response.status, granted, response };
  }

  private async pushBlob(repository: string, blob: Buffer): Promise<RegistryCallResult> {
    const digest = sha256(blob);
    const start = await this.request('POST', `/v2/${repository}/blobs/uploads/`);
    if (start.status !== 202) return { status: start.status, granted: start.granted };
    const location = new URL(start.response.headers.get('location')!, this.registryUrl);
    location.searchParams.set('digest', digest);
    const put = await this.request('PUT', location.toString(), {
      body: blob,
      headers: { 'content-type': 'application/octet-stream' },
    });
    return { status: put.status, granted: start.granted, digest };
  }

  /** Pushes a small random image (one layer, a config, a schema 2 manifest) as `repository:tag`. */
  async pushImage(repository: string, tag: string): Promise<RegistryCallResult> {
    const layer = randomBytes(1024);
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [sha256(layer)] },
      }),
    );
    for (const blob of [layer, config]) {
      const pushed = await this.pushBlob(repository, blob);
      if (pushed.status !== 201) return pushed;
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: {
          mediaType: 'application/vnd.docker.container.image.v1+json',
          size: config.length,
          digest: sha256(config),
        },
        layers: [
          {
            mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
            size: layer.length,
            digest: sha256(layer),
          },
        ],
      }),
    );
    const put = await this.request('PUT', `/v2/${repository}/manifests/${tag}`, {
      body: manifest,
      headers: { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    return { status: put.status, granted: put.granted, digest: sha256(manifest) };
  }

  async pullManifest(repository: string, reference: string): Promise<RegistryCallResult> {
    const result = await this.request('GET', `/v2/${repository}/manifests/${reference}`, {
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    return {
      status: result.status,
      granted: result.granted,
      digest: result.response.headers.get('docker-content-digest') ?? undefined,
      body: await result.response.text(),
    };
  }

  async deleteManifest(repository: string, digest: string): Promise<RegistryCallResult> {
    const result = await this.request('DELETE', `/v2/${repository}/manifests/${digest}`);
    return { status: result.status, granted: result.granted };
  }
}
