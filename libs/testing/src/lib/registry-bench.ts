/**
 * Real container registries for integration tests (issue #6, R-AU-5): Docker Distribution 2.8.2 from
 * Debian's `docker-registry`, one process per registry, filesystem storage in a directory of its own,
 * optionally with token authentication against a realm (the gateway). And a small client that speaks
 * the registry's HTTP API and the token flow, so tests push and pull without Docker.
 *
 * What Distribution 2.8.2 accepts as a bearer token was measured against the real registry in
 * registry-bench.int-spec.ts (hand-signed JWTs); in short: ES256 (P-256, signature r‖s) or RS256;
 * the signing key named by `kid` = its libtrust key id, or by an `x5c` chain ending in a certificate
 * of `rootcertbundle`, or by a `jwk` of a trusted key; `iss` = issuer; `aud` = service as a string
 * (an array is a malformed token); integer `exp`/`nbf` checked with 60 s leeway; `access` entries
 * must name the repository exactly. Refusals are 401 with a Bearer challenge, never 403.
 *
 * Children run under `setpriv --pdeathsig SIGKILL`, so they die with the test process even when it
 * is SIGKILLed; cleanupLeftoverRegistryBenches() removes the directories a killed run left.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import {
  cleanupLeftoverBenches,
  installExitHook,
  readLogTail,
  spawnBenchChild,
  writeBenchFile,
} from './bench-process';
import { freePort, repoRoot } from './process';

export interface RegistryTokenAuth {
  /** Where clients get tokens (the gateway's /api/v1/auth/registry-token). */
  realm: string;
  /** This registry's name in tokens' `aud`. */
  service: string;
  /** What tokens' `iss` must say. */
  issuer: string;
  /** PEM certificate(s) whose keys sign the tokens; several certificates = several trusted keys. */
  rootCertBundlePath: string;
}

export interface RegistryBenchOptions {
  /** A label for messages and the directory name. */
  name: string;
  /** Token authentication; without it the registry lets anyone do anything. */
  auth?: RegistryTokenAuth;
  /** Deadline for `/v2/` to answer. Default 15 000 ms. */
  startTimeoutMs?: number;
}

const DIR_PREFIX = 'registry-bench-';
const PORT_ATTEMPTS = 4;
const LOG_TAIL_BYTES = 3_000;

/**
 * Kills the registries of benches whose test process is gone (pdeathsig normally did already) and
 * removes their directories under `root` (default: the repo's tmp/). The command line names the
 * bench's config file: a reused pid is left alone. Returns the directories removed.
 */
export function cleanupLeftoverRegistryBenches(root = join(repoRoot, 'tmp')): string[] {
  return cleanupLeftoverBenches(DIR_PREFIX, root);
}

/** Thrown when the registry found its port taken between our check and its bind. */
class PortInUseError extends Error {}

/**
 * One running Distribution registry on 127.0.0.1 (`url` = http://127.0.0.1:PORT). Storage deletes
 * are enabled (DELETE of manifests and blobs). With `auth`, every request needs a bearer token from
 * the realm; `/v2/` answers 401 with the challenge.
 */
export class RegistryBench {
  /** Where the registry stores blobs and manifests. */
  readonly storageDir: string;
  readonly configPath: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly history: Array<{ name: string; pid: number }> = [];
  private stopped = false;

  private constructor(
    readonly name: string,
    readonly dir: string,
    readonly port: number,
    readonly auth: RegistryTokenAuth | undefined,
    private readonly startTimeoutMs: number,
  ) {
    this.storageDir = join(dir, 'data');
    this.configPath = join(dir, 'config.yml');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Pid of the running registry (undefined while stopped). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  static async start(options: RegistryBenchOptions): Promise<RegistryBench> {
    if (!isMainThread)
      throw new Error('RegistryBench: start it on the main thread (pdeathsig is per thread)');
    if (!existsSync('/usr/bin/docker-registry')) {
      throw new Error(
        'RegistryBench: docker-registry is not installed (apt-get install -y --no-install-recommends docker-registry); .ci/run installs it',
      );
    }
    installExitHook();
    cleanupLeftoverRegistryBenches();
    const tmp = join(repoRoot, 'tmp');
    mkdirSync(tmp, { recursive: true });
    const label = options.name.replace(/[^A-Za-z0-9-]+/g, '_').slice(0, 40);
    const dir = mkdtempSync(join(tmp, `${DIR_PREFIX}${process.pid}-${label}-`));
    writeBenchFile(dir, []);
    try {
      for (let attempt = 1; ; attempt++) {
        const bench = new RegistryBench(
          options.name,
          dir,
          await freePort(),
          options.auth,
          options.startTimeoutMs ?? 15_000,
        );
        writeFileSync(bench.configPath, bench.config());
        try {
          await bench.startServer();
          return bench;
        } catch (error) {
          if (!(error instanceof PortInUseError) || attempt >= PORT_ATTEMPTS) throw error;
        }
      }
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  private config(): string {
    const q = (s: string) => JSON.stringify(s); // JSON strings are valid YAML scalars
    const lines = [
      'version: 0.1',
      'log:',
      // info: the reasons a token is refused ("token intended for another audience", …) are logged
      // at info level; the access log is off, so the file stays small.
      '  level: info',
      '  formatter: text',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${q(this.storageDir)}`,
      '  delete:',
      '    enabled: true',
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: 127.0.0.1:${this.port}`,
      // Signs upload state between requests; without it each start makes one up (and warns).
      `  secret: ${q(randomBytes(16).toString('hex'))}`,
      ...(this.auth
        ? [
            'auth:',
            '  token:',
            `    realm: ${q(this.auth.realm)}`,
            `    service: ${q(this.auth.service)}`,
            `    issuer: ${q(this.auth.issuer)}`,
            `    rootcertbundle: ${q(this.auth.rootCertBundlePath)}`,
          ]
        : []),
      '',
    ];
    return lines.join('\n');
  }

  /** Starts the registry (again, same port and storage) and waits until `/v2/` answers 200 or 401. */
  async startServer(): Promise<void> {
    if (this.stopped) throw new Error(`RegistryBench ${this.name}: already stopped`);
    if (this.child) throw new Error(`RegistryBench ${this.name}: already running`);
    // No `cannotStart`: a registry that cannot be spawned reports it through `exit` below.
    const server = spawnBenchChild({
      name: 'docker-registry',
      command: 'docker-registry',
      args: ['serve', this.configPath],
      cwd: this.dir,
      logPath: join(this.dir, 'registry.log'),
    });
    const logOffset = server.logOffset;
    this.exited = server.exited;
    this.child = server.process;
    if (server.pid) this.history.push({ name: 'docker-registry', pid: server.pid });
    writeBenchFile(this.dir, this.history);

    const deadline = Date.now() + this.startTimeoutMs;
    let last = 'no answer yet';
    for (;;) {
      if (server.exit) {
        this.child = undefined;
        const tail = this.logTail(logOffset);
        const message = `RegistryBench ${this.name}: docker-registry ${server.exit} (last probe: ${last}):\n${tail}`;
        if (/address already in use/i.test(tail)) throw new PortInUseError(message);
        throw new Error(message);
      }
      try {
        const res = await fetch(`${this.url}/v2/`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.status === (this.auth ? 401 : 200)) return;
        last = `GET /v2/ ${res.status}`;
      } catch (error) {
        last = (error as Error).message;
      }
      if (Date.now() > deadline) {
        await this.stopServer();
        throw new Error(
          `RegistryBench ${this.name}: no answer within ${this.startTimeoutMs} ms (${last}):\n${this.logTail(logOffset)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Kills the registry (connections are refused from then on); the storage stays for startServer(). */
  async stopServer(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.ref();
    child.kill('SIGKILL');
    await this.exited;
    child.unref();
  }

  /** The registry's log from `offset` on (its last few KB). */
  logTail(offset = 0): string {
    return readLogTail(join(this.dir, 'registry.log'), offset, LOG_TAIL_BYTES);
  }

  /** Kills the registry and removes its directory (storage included). Idempotent. */
  async stop(): Promise<void> {
    await this.stopServer();
    this.stopped = true;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface RegistryTokenKeys {
  privateKeyPath: string;
  certificatePath: string;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  certificatePem: string;
  /** The JWS algorithm this key signs: ES256 (EC P-256) or RS256 (RSA 2048). */
  algorithm: 'ES256' | 'RS256';
}

/**
 * A key and a self-signed certificate (CN stratum-gateway unless given, valid 10 years) for the
 * registries' token service, made with the openssl CLI (Node can sign but not issue certificates).
 * The registries trust the certificate (`rootcertbundle`); the token service signs with the key.
 * EC P-256 by default (ES256, 64-byte signatures); `type: 'rsa'` makes RSA 2048 (RS256).
 */
export function makeRegistryTokenKeys(
  dir: string,
  options: { type?: 'ec' | 'rsa'; commonName?: string } = {},
): RegistryTokenKeys {
  const type = options.type ?? 'ec';
  const base = type === 'ec' ? 'registry-token' : 'registry-token-rsa';
  const privateKeyPath = join(dir, `${base}.key`);
  const certificatePath = join(dir, `${base}.crt`);
  const key =
    type === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] : ['-newkey', 'rsa:2048'];
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        ...key,
        '-nodes',
        '-keyout',
        privateKeyPath,
        '-out',
        certificatePath,
        '-days',
        '3650',
        '-subj',
        `/CN=${options.commonName ?? 'stratum-gateway'}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
    throw new Error(`makeRegistryTokenKeys: openssl req failed: ${stderr || (error as Error).message}`);
  }
  return {
    privateKeyPath,
    certificatePath,
    privateKeyPem: readFileSync(privateKeyPath, 'utf8'),
    certificatePem: readFileSync(certificatePath, 'utf8'),
    algorithm: type === 'ec' ? 'ES256' : 'RS256',
  };
}

// ---------------------------------------------------------------------------------------------
// Client

export interface RegistryCredentials {
  username: string;
  password: string;
}

/** How one call authenticates: credentials for the token flow, or a bearer token used as is. */
export interface RegistryAuthOptions {
  /** Overrides the client's credentials for this call. */
  credentials?: RegistryCredentials;
  /** A ready token (e.g. hand-signed in a test): sent from the first request, no token flow. */
  token?: string;
}

export interface RegistryAccess {
  type: string;
  name: string;
  actions: string[];
}

/** A parsed `WWW-Authenticate: Bearer realm=…,service=…,scope=…[,error=…]`. */
export interface BearerChallenge {
  realm: string;
  service?: string;
  scope?: string;
  /** `invalid_token` (bad or missing token), `insufficient_scope` (token lacks the action). */
  error?: string;
}

export interface RegistryCallResult {
  status: number;
  /** What the token (from the realm or given) grants, when one was used. */
  granted?: RegistryAccess[];
  /** Status of the realm when it refused a token (the call's status is then the registry's 401). */
  tokenStatus?: number;
  /** The challenge of a final 401. */
  challenge?: BearerChallenge;
  body?: string;
  digest?: string;
  /** For pushImage: the step that failed (`HEAD blob`, `POST upload`, `PUT blob`, `PUT manifest`). */
  step?: string;
}

/** Parses a Bearer challenge; undefined for anything else. */
export function parseBearerChallenge(header: string | null): BearerChallenge | undefined {
  if (!header || !/^Bearer\s/i.test(header)) return undefined;
  const params: Record<string, string> = {};
  for (const [, key, value] of header.matchAll(/(\w+)="([^"]*)"/g)) params[key!.toLowerCase()] = value!;
  if (!params.realm) return undefined;
  return { realm: params.realm, service: params.service, scope: params.scope, error: params.error };
}

/** The `access` claim of a JWT, without verifying it (the registry does that). */
function accessOf(token: string): RegistryAccess[] | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      access?: RegistryAccess[];
    };
    return claims.access ?? [];
  } catch {
    return undefined;
  }
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A one-file ustar archive (the smallest valid image layer), deterministic but for the content. */
function tarOneFile(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512, 0);
  const put = (offset: number, length: number, value: string) => header.write(value, offset, length, 'ascii');
  const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, '0') + '\0';
  put(0, 100, name);
  put(100, 8, octal(0o644, 8));
  put(108, 8, octal(0, 8));
  put(116, 8, octal(0, 8));
  put(124, 12, octal(content.length, 12));
  put(136, 12, octal(0, 12));
  put(148, 8, '        '); // the checksum counts its own field as spaces
  put(156, 1, '0');
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  let sum = 0;
  for (const byte of header) sum += byte;
  put(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512, 0);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024, 0)]);
}

const MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
const MANIFEST_ACCEPT = [
  MANIFEST_V2,
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/**
 * The registry HTTP API v2 with the token flow of the Docker token-authentication spec: on a 401
 * with a Bearer challenge, GET the realm with Basic credentials and the challenge's `service` and
 * `scope`, and retry once with `Authorization: Bearer <token>`. Tokens are reused per credentials,
 * service and scope. Statuses are returned, not thrown: tests assert refusals (401 with `challenge.error`
 * `insufficient_scope` is Distribution's "not allowed"; it does not answer 403).
 *
 * Credentials come from the constructor or per call (`{ credentials }`); `{ token }` sends a given
 * token instead of running the flow.
 */
export class RegistryClient {
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly registryUrl: string,
    private readonly credentials?: RegistryCredentials,
  ) {}

  /** Asks the realm for a token for the challenge's service and scope; the realm's status if it refuses. */
  async fetchToken(
    challenge: BearerChallenge,
    credentials: RegistryCredentials | undefined,
  ): Promise<{ token: string } | { status: number }> {
    // Per credentials (a wrong password must not reuse a token the right one got), service and scope.
    const who = credentials
      ? createHash('sha256').update(`${credentials.username}:${credentials.password}`).digest('hex')
      : '';
    const key = `${who}\n${challenge.service ?? ''}\n${challenge.scope ?? ''}`;
    const cached = this.tokens.get(key);
    if (cached) return { token: cached };
    const url = new URL(challenge.realm);
    if (challenge.service) url.searchParams.set('service', challenge.service);
    if (challenge.scope) url.searchParams.set('scope', challenge.scope);
    const headers: Record<string, string> = {};
    if (credentials) {
      headers.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    }
    const response = await fetch(url, { headers });
    const text = await response.text();
    if (response.status !== 200) return { status: response.status };
    // The spec's field is `token`; OAuth2-style servers send `access_token`.
    const body = JSON.parse(text) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) return { status: 502 };
    this.tokens.set(key, token);
    return { token };
  }

  /** One request, with the token flow when the registry challenges. */
  async request(
    method: string,
    path: string,
    init: { body?: Buffer; headers?: Record<string, string> } & RegistryAuthOptions = {},
  ): Promise<RegistryCallResult & { response: Response }> {
    const url = path.startsWith('http') ? path : `${this.registryUrl}${path}`;
    const send = (token?: string) =>
      fetch(url, {
        method,
        headers: { ...init.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: init.body,
        redirect: 'manual',
      });
    let response = await send(init.token);
    let granted = init.token ? accessOf(init.token) : undefined;
    let tokenStatus: number | undefined;
    const challenge =
      response.status === 401 ? parseBearerChallenge(response.headers.get('www-authenticate')) : undefined;
    if (challenge && !init.token) {
      const got = await this.fetchToken(challenge, init.credentials ?? this.credentials);
      if ('token' in got) {
        await response.arrayBuffer();
        granted = accessOf(got.token);
        response = await send(got.token);
      } else {
        tokenStatus = got.status;
      }
    }
    const finalChallenge =
      response.status === 401 ? parseBearerChallenge(response.headers.get('www-authenticate')) : undefined;
    return { status: response.status, granted, tokenStatus, challenge: finalChallenge, response };
  }

  private async pushBlob(
    repository: string,
    blob: Buffer,
    auth: RegistryAuthOptions,
  ): Promise<RegistryCallResult> {
    const digest = sha256(blob);
    const head = await this.request('HEAD', `/v2/${repository}/blobs/${digest}`, auth);
    if (head.status === 200) return { ...strip(head), status: 201, digest };
    if (head.status !== 404) return { ...strip(head), step: 'HEAD blob' };
    const start = await this.request('POST', `/v2/${repository}/blobs/uploads/`, auth);
    await start.response.arrayBuffer();
    if (start.status !== 202) return { ...strip(start), step: 'POST upload' };
    const location = new URL(start.response.headers.get('location')!, this.registryUrl);
    location.searchParams.set('digest', digest);
    const put = await this.request('PUT', location.toString(), {
      ...auth,
      body: blob,
      headers: { 'content-type': 'application/octet-stream' },
    });
    await put.response.arrayBuffer();
    return {
      ...strip(put),
      granted: start.granted,
      digest,
      ...(put.status === 201 ? {} : { step: 'PUT blob' }),
    };
  }

  /**
   * Pushes a small random image as `repository:tag`: one gzipped tar layer with a random file, its
   * config and a schema 2 manifest (HEAD blob → POST upload → PUT ?digest= per blob, then PUT
   * manifest). 201 and the manifest digest on success; otherwise the failing step's status.
   */
  async pushImage(
    repository: string,
    tag: string,
    auth: RegistryAuthOptions = {},
  ): Promise<RegistryCallResult> {
    const tar = tarOneFile('stratum-test', randomBytes(1024));
    const layer = gzipSync(tar);
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: {},
        rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
      }),
    );
    for (const blob of [layer, config]) {
      const pushed = await this.pushBlob(repository, blob, auth);
      if (pushed.status !== 201) return pushed;
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST_V2,
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
      ...auth,
      body: manifest,
      headers: { 'content-type': MANIFEST_V2 },
    });
    await put.response.arrayBuffer();
    return {
      ...strip(put),
      digest: sha256(manifest),
      ...(put.status === 201 ? {} : { step: 'PUT manifest' }),
    };
  }

  /** GET a manifest by tag or digest: 200 with its digest (Docker-Content-Digest) and body. */
  async pullManifest(
    repository: string,
    reference: string,
    auth: RegistryAuthOptions = {},
  ): Promise<RegistryCallResult> {
    const result = await this.request('GET', `/v2/${repository}/manifests/${reference}`, {
      ...auth,
      headers: { accept: MANIFEST_ACCEPT },
    });
    return {
      ...strip(result),
      digest: result.response.headers.get('docker-content-digest') ?? undefined,
      body: await result.response.text(),
    };
  }

  /** DELETE a manifest by digest (Distribution refuses tags): 202 when deleted. */
  async deleteManifest(
    repository: string,
    digest: string,
    auth: RegistryAuthOptions = {},
  ): Promise<RegistryCallResult> {
    const result = await this.request('DELETE', `/v2/${repository}/manifests/${digest}`, auth);
    await result.response.arrayBuffer();
    return strip(result);
  }

  /** GET /v2/<repository>/tags/list: the tags in `body` (JSON) on 200. */
  async listTags(
    repository: string,
    auth: RegistryAuthOptions = {},
  ): Promise<RegistryCallResult & { tags?: string[] }> {
    const result = await this.request('GET', `/v2/${repository}/tags/list`, auth);
    const body = await result.response.text();
    const tags =
      result.status === 200 ? ((JSON.parse(body) as { tags: string[] | null }).tags ?? []) : undefined;
    return { ...strip(result), body, tags };
  }
}

/** A call result without the Response object. */
function strip(result: RegistryCallResult & { response?: Response }): RegistryCallResult {
  const rest = { ...result };
  delete rest.response;
  return rest;
}
