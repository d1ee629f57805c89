/**
 * RegistryBench and RegistryClient on the real Docker Distribution 2.8.2 (Debian's docker-registry),
 * and what its token authentication accepts, proven with hand-signed JWTs. The gateway's token signer
 * follows these findings; the table below is the evidence:
 *  - alg ES256 (P-256, signature r‖s as JOSE says: `dsaEncoding: 'ieee-p1363'`; DER is refused) or
 *    RS256 (RSA, PKCS#1 v1.5); the alg must fit the key (ES384 with a P-256 key is refused);
 *  - the signing key is found by `kid` = libtrust key id of a key in `rootcertbundle` (exact form:
 *    upper case, colons), or by `x5c` = [base64 DER certificate] chaining to the bundle, or by `jwk`
 *    (the public key itself) of a trusted key; none of them, a JWK thumbprint or an unknown key → 401;
 *    several certificates in the bundle are all trusted (key rotation);
 *  - claims: `iss` = the configured issuer, `aud` = the service as a *string* (an array is a malformed
 *    token in 2.8.2), `exp` an integer (a string or a fraction is malformed; missing = expired), `nbf`
 *    optional; both checked with 60 s leeway; `sub`, `iat`, `jti` are not checked;
 *  - `access` [{type: 'repository', name, actions}]: the name must match exactly (no wildcards);
 *    HEAD/GET need `pull`, an upload `push` and `pull`, a manifest DELETE `delete`; `*` means every
 *    action; the catalog needs {type: 'registry', name: 'catalog', actions: ['*']};
 *  - a refusal is always 401 with `WWW-Authenticate: Bearer realm,service[,scope][,error]`:
 *    `invalid_token` for a bad token, `insufficient_scope` for missing actions — never 403.
 */
import { libtrustKeyId } from '@stratum/authz';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomUUID,
  sign,
  X509Certificate,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, relative } from 'node:path';
import { waitFor } from '@stratum/util';
import { isAlive, repoRoot, runTs } from './process';
import {
  makeRegistryTokenKeys,
  parseBearerChallenge,
  RegistryBench,
  RegistryClient,
  type RegistryTokenKeys,
} from './registry-bench';

jest.setTimeout(60_000);

const SERVICE = 'stratum-test-registry';
const ISSUER = 'stratum-gateway';

// ---------------------------------------------------------------------------------------------
// Test-only JWT helpers (the gateway has its own signer; these prove what the registry accepts, with
// the key id from @stratum/authz that the gateway's signer uses too)

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function jwt(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  key: KeyObject,
  dsaEncoding: 'ieee-p1363' | 'der' = 'ieee-p1363',
): string {
  const input = `${b64url(header)}.${b64url(claims)}`;
  const signature =
    key.asymmetricKeyType === 'ec'
      ? sign('sha256', Buffer.from(input), { key, dsaEncoding })
      : sign('sha256', Buffer.from(input), key);
  return `${input}.${signature.toString('base64url')}`;
}

interface Signer {
  keys: RegistryTokenKeys;
  key: KeyObject;
  kid: string;
  alg: 'ES256' | 'RS256';
}

function signer(keys: RegistryTokenKeys): Signer {
  const key = createPrivateKey(keys.privateKeyPem);
  return { keys, key, kid: libtrustKeyId(createPublicKey(key)), alg: keys.algorithm };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSeconds();
  return {
    iss: ISSUER,
    sub: 'alice',
    aud: SERVICE,
    exp: now + 300,
    nbf: now - 5,
    iat: now,
    jti: randomUUID(),
    access: [],
    ...extra,
  };
}

const repository = (name: string, ...actions: string[]) => ({ type: 'repository', name, actions });

/** `type:name:a,b` with the actions sorted. */
function sortedScope(scope: string | undefined): string | undefined {
  if (!scope) return scope;
  const cut = scope.lastIndexOf(':');
  return `${scope.slice(0, cut)}:${scope
    .slice(cut + 1)
    .split(',')
    .sort()
    .join(',')}`;
}

// ---------------------------------------------------------------------------------------------

describe('RegistryBench without authentication', () => {
  let registry: RegistryBench;

  beforeAll(async () => {
    registry = await RegistryBench.start({ name: 'open' });
  });

  afterAll(async () => {
    await registry?.stop();
  });

  it('serves /v2/ to anyone, stores pushed images and deletes manifests', async () => {
    expect((await fetch(`${registry.url}/v2/`)).status).toBe(200);
    const client = new RegistryClient(registry.url);
    const pushed = await client.pushImage('team/app', '1.0');
    expect(pushed).toMatchObject({ status: 201, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    // Pushing the same layer again finds it with HEAD and skips the upload.
    const pulled = await client.pullManifest('team/app', '1.0');
    expect(pulled.status).toBe(200);
    expect(pulled.digest).toBe(pushed.digest);
    const manifest = JSON.parse(pulled.body!) as { layers: Array<{ digest: string }> };
    const layer = await fetch(`${registry.url}/v2/team/app/blobs/${manifest.layers[0]!.digest}`, {
      method: 'HEAD',
    });
    expect(layer.status).toBe(200);
    expect((await client.listTags('team/app')).tags).toEqual(['1.0']);
    expect((await client.deleteManifest('team/app', pushed.digest!)).status).toBe(202);
    expect((await client.pullManifest('team/app', '1.0')).status).toBe(404);
  });

  it('stops (connections refused) and starts again on the same port with the same storage', async () => {
    const client = new RegistryClient(registry.url);
    const pushed = await client.pushImage('team/kept', '1');
    expect(pushed.status).toBe(201);
    await registry.stopServer();
    await expect(fetch(`${registry.url}/v2/`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    await registry.startServer();
    expect((await client.pullManifest('team/kept', '1')).digest).toBe(pushed.digest);
  });

  it('dies with the test process that started it (pdeathsig), and its directory is cleaned up later', async () => {
    const dir = mkdtempSync(join(repoRoot, 'tmp', 'registry-orphan-'));
    const script = join(dir, 'start.ts');
    writeFileSync(
      script,
      `import { RegistryBench } from ${JSON.stringify(join(__dirname, 'registry-bench'))};\n` +
        `RegistryBench.start({ name: 'orphan' }).then((r) => console.log('READY', r.pid, r.dir));\n` +
        `setInterval(() => undefined, 1000);\n`,
    );
    const owner = runTs(relative(repoRoot, script), {});
    try {
      const ready = await waitFor(() => /READY (\d+) (\S+)/.exec(owner.output()) ?? undefined, {
        timeoutMs: 30_000,
        description: `the registry of a child process (${owner.output()})`,
      });
      const pid = Number(ready[1]);
      expect(isAlive(pid)).toBe(true);
      owner.child.kill('SIGKILL');
      await owner.exited;
      await waitFor(() => !isAlive(pid) || readFileSync(`/proc/${pid}/stat`, 'utf8').includes(' Z '), {
        timeoutMs: 10_000,
        description: 'the orphaned registry killed by pdeathsig',
      });
      // The next start (any test process) removes what the killed one left.
      const other = await RegistryBench.start({ name: 'cleaner' });
      await other.stop();
      expect(() => readFileSync(join(ready[2]!, 'config.yml'))).toThrow();
    } finally {
      await owner.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Distribution 2.8.2 token authentication with hand-signed JWTs', () => {
  let dir: string;
  let ec: Signer;
  let rsa: Signer;
  let untrusted: Signer;
  let registry: RegistryBench;
  let realm: Server;
  let realmUrl: string;
  const realmRequests: string[] = [];

  /** GET /v2/ with a bearer token: 200 accepted, 401 refused. */
  const probe = async (token: string) => {
    const res = await fetch(`${registry.url}/v2/`, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    return res.status;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(repoRoot, 'tmp', 'registry-jwt-'));
    ec = signer(makeRegistryTokenKeys(dir));
    rsa = signer(makeRegistryTokenKeys(dir, { type: 'rsa' }));
    untrusted = signer(makeRegistryTokenKeys(mkdtempSync(join(dir, 'other-'))));
    // Two trusted certificates, as during a key rotation.
    const bundle = join(dir, 'bundle.pem');
    writeFileSync(bundle, ec.keys.certificatePem + rsa.keys.certificatePem);

    // A token service like the gateway's: Basic credentials; `pusher` gets pull and push on what it
    // asks for, `puller` pull only, anyone else 401.
    realm = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      realmRequests.push(url.search);
      const [user, password] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
        .toString()
        .split(':');
      const allowed =
        password === 'secret' ? { pusher: ['pull', 'push'], puller: ['pull'] }[user ?? ''] : undefined;
      if (!allowed || url.searchParams.get('service') !== SERVICE) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end();
        return;
      }
      const access = url.searchParams.getAll('scope').map((scope) => {
        const [type, name, actions] = scope.split(':');
        return { type, name, actions: actions!.split(',').filter((a) => allowed.includes(a)) };
      });
      const token = jwt({ typ: 'JWT', alg: 'ES256', kid: ec.kid }, claims({ sub: user, access }), ec.key);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }),
      );
    });
    await new Promise<void>((resolveListen) => realm.listen(0, '127.0.0.1', resolveListen));
    realmUrl = `http://127.0.0.1:${(realm.address() as { port: number }).port}/token`;
    registry = await RegistryBench.start({
      name: 'token-auth',
      auth: { realm: realmUrl, service: SERVICE, issuer: ISSUER, rootCertBundlePath: bundle },
    });
  });

  afterAll(async () => {
    await registry?.stop();
    await new Promise((resolveClose) => realm?.close(resolveClose));
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a request without a token with 401 and a Bearer challenge naming realm, service and scope', async () => {
    const base = await fetch(`${registry.url}/v2/`);
    expect(base.status).toBe(401);
    expect(parseBearerChallenge(base.headers.get('www-authenticate'))).toEqual({
      realm: realmUrl,
      service: SERVICE,
      scope: undefined,
      error: undefined,
    });
    const pull = await fetch(`${registry.url}/v2/team/app/manifests/1`);
    expect(pull.status).toBe(401);
    expect(parseBearerChallenge(pull.headers.get('www-authenticate'))).toMatchObject({
      realm: realmUrl,
      service: SERVICE,
      scope: 'repository:team/app:pull',
    });
    // The order of the actions varies from request to request (a Go map): compare them as a set.
    const upload = await fetch(`${registry.url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
    expect(sortedScope(parseBearerChallenge(upload.headers.get('www-authenticate'))?.scope)).toBe(
      'repository:team/app:pull,push',
    );
    const remove = await fetch(`${registry.url}/v2/team/app/manifests/sha256:${'0'.repeat(64)}`, {
      method: 'DELETE',
    });
    expect(parseBearerChallenge(remove.headers.get('www-authenticate'))?.scope).toBe(
      'repository:team/app:delete',
    );
  });

  it('runs the token flow: a push-scoped token pushes and pulls, a pull-only one cannot push, bad credentials get nothing', async () => {
    const client = new RegistryClient(registry.url);
    const pushed = await client.pushImage('team/flow', '1', {
      credentials: { username: 'pusher', password: 'secret' },
    });
    expect(pushed.status).toBe(201);
    expect(pushed.granted?.map((a) => ({ ...a, actions: [...a.actions].sort() }))).toEqual([
      repository('team/flow', 'pull', 'push'),
    ]);
    expect(realmRequests.map((q) => sortedScope(new URLSearchParams(q).get('scope')!))).toContain(
      'repository:team/flow:pull,push',
    );
    const pulled = await client.pullManifest('team/flow', '1', {
      credentials: { username: 'puller', password: 'secret' },
    });
    expect(pulled).toMatchObject({ status: 200, digest: pushed.digest });

    const denied = await client.pushImage('team/flow', '2', {
      credentials: { username: 'puller', password: 'secret' },
    });
    expect(denied).toMatchObject({
      status: 401,
      step: 'POST upload',
      granted: [repository('team/flow', 'pull')],
      challenge: { error: 'insufficient_scope' },
    });
    expect(sortedScope(denied.challenge?.scope)).toBe('repository:team/flow:pull,push');
    const wrong = await client.pullManifest('team/flow', '1', {
      credentials: { username: 'pusher', password: 'nope' },
    });
    expect(wrong).toMatchObject({ status: 401, tokenStatus: 401, granted: undefined });
  });

  it('accepts these JOSE header forms and refuses the others', async () => {
    const ecJwk = createPublicKey(ec.key).export({ format: 'jwk' });
    const x5c = (pem: string) => [new X509Certificate(pem).raw.toString('base64')];
    const thumbprint = createHash('sha256')
      .update(JSON.stringify({ crv: ecJwk.crv, kty: ecJwk.kty, x: ecJwk.x, y: ecJwk.y }))
      .digest('base64url');
    const c = claims();
    const cases: Array<[string, string, number]> = [
      ['ES256, kid = libtrust key id', jwt({ typ: 'JWT', alg: 'ES256', kid: ec.kid }, c, ec.key), 200],
      ['ES256, kid, no typ', jwt({ alg: 'ES256', kid: ec.kid }, c, ec.key), 200],
      [
        'ES256, x5c = [certificate]',
        jwt({ typ: 'JWT', alg: 'ES256', x5c: x5c(ec.keys.certificatePem) }, c, ec.key),
        200,
      ],
      ['ES256, jwk = public key', jwt({ typ: 'JWT', alg: 'ES256', jwk: ecJwk }, c, ec.key), 200],
      ['RS256, kid = libtrust key id', jwt({ typ: 'JWT', alg: 'RS256', kid: rsa.kid }, c, rsa.key), 200],
      ['RS256, x5c', jwt({ typ: 'JWT', alg: 'RS256', x5c: x5c(rsa.keys.certificatePem) }, c, rsa.key), 200],
      ['ES256, DER signature', jwt({ typ: 'JWT', alg: 'ES256', kid: ec.kid }, c, ec.key, 'der'), 401],
      ['ES384 header, P-256 key', jwt({ typ: 'JWT', alg: 'ES384', kid: ec.kid }, c, ec.key), 401],
      ['kid = RFC 7638 thumbprint', jwt({ typ: 'JWT', alg: 'ES256', kid: thumbprint }, c, ec.key), 401],
      ['kid in lower case', jwt({ typ: 'JWT', alg: 'ES256', kid: ec.kid.toLowerCase() }, c, ec.key), 401],
      [
        'kid without colons',
        jwt({ typ: 'JWT', alg: 'ES256', kid: ec.kid.replace(/:/g, '') }, c, ec.key),
        401,
      ],
      ['no kid, x5c or jwk', jwt({ typ: 'JWT', alg: 'ES256' }, c, ec.key), 401],
      [
        'untrusted key, its kid',
        jwt({ typ: 'JWT', alg: 'ES256', kid: untrusted.kid }, c, untrusted.key),
        401,
      ],
      [
        'untrusted key, its x5c',
        jwt({ typ: 'JWT', alg: 'ES256', x5c: x5c(untrusted.keys.certificatePem) }, c, untrusted.key),
        401,
      ],
      [
        'trusted kid, signed by another key',
        jwt({ typ: 'JWT', alg: 'ES256', kid: ec.kid }, c, untrusted.key),
        401,
      ],
    ];
    const seen = [];
    for (const [name, token] of cases) seen.push([name, await probe(token)]);
    expect(seen).toEqual(cases.map(([name, , status]) => [name, status]));
  });

  it('checks iss, aud (a string), exp and nbf (integers, 60 s leeway); not sub, iat or jti', async () => {
    const header = { typ: 'JWT', alg: 'ES256', kid: ec.kid };
    const now = nowSeconds();
    const cases: Array<[string, Record<string, unknown>, number]> = [
      ['all claims', claims(), 200],
      ['only iss, aud, exp (+access)', { iss: ISSUER, aud: SERVICE, exp: now + 300, access: [] }, 200],
      ['iss of someone else', claims({ iss: 'someone-else' }), 401],
      ['aud of another registry', claims({ aud: 'stratum-production-registry' }), 401],
      ['aud as an array', claims({ aud: [SERVICE] }), 401],
      ['no exp', claims({ exp: undefined }), 401],
      ['exp 30 s ago (leeway)', claims({ exp: now - 30 }), 200],
      ['exp 120 s ago', claims({ exp: now - 120 }), 401],
      ['nbf in 30 s (leeway)', claims({ nbf: now + 30 }), 200],
      ['nbf in 120 s', claims({ nbf: now + 120 }), 401],
      ['exp as a string', claims({ exp: String(now + 300) }), 401],
      ['exp with a fraction', claims({ exp: now + 300.5 }), 401],
    ];
    const seen = [];
    for (const [name, c] of cases) seen.push([name, await probe(jwt(header, c, ec.key))]);
    expect(seen).toEqual(cases.map(([name, , status]) => [name, status]));
  });

  it('grants exactly the access listed: exact names, pull / push / delete, "*" for everything', async () => {
    const client = new RegistryClient(registry.url);
    const token = (...access: unknown[]) =>
      jwt({ typ: 'JWT', alg: 'ES256', kid: ec.kid }, claims({ access }), ec.key);

    const pushed = await client.pushImage('team/exact', '1', {
      token: token(repository('team/exact', 'pull', 'push')),
    });
    expect(pushed.status).toBe(201);
    expect(
      (await client.pullManifest('team/exact', '1', { token: token(repository('team/exact', 'pull')) }))
        .status,
    ).toBe(200);
    // The actions may come in separate entries for the same repository.
    const split = token(repository('team/exact', 'pull'), repository('team/exact', 'push'));
    expect((await client.pushImage('team/exact', '2', { token: split })).status).toBe(201);

    expect(
      await client.pushImage('team/exact', '3', { token: token(repository('team/exact', 'pull')) }),
    ).toMatchObject({
      status: 401,
      step: 'POST upload',
      challenge: { error: 'insufficient_scope' },
    });
    // Without pull even the first HEAD is refused.
    expect(
      await client.pushImage('team/exact', '3', { token: token(repository('team/exact', 'push')) }),
    ).toMatchObject({
      status: 401,
      step: 'HEAD blob',
    });
    expect(
      (await client.pushImage('team/exact', '3', { token: token(repository('team/*', 'pull', 'push')) }))
        .status,
    ).toBe(401);
    expect(
      (await client.pushImage('team/other', '1', { token: token(repository('team/exact', 'pull', 'push')) }))
        .status,
    ).toBe(401);

    expect(
      (
        await client.deleteManifest('team/exact', pushed.digest!, {
          token: token(repository('team/exact', 'pull', 'push')),
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await client.deleteManifest('team/exact', pushed.digest!, {
          token: token(repository('team/exact', 'delete')),
        })
      ).status,
    ).toBe(202);
    const all = token(repository('team/star', '*'));
    const star = await client.pushImage('team/star', '1', { token: all });
    expect(star.status).toBe(201);
    expect((await client.deleteManifest('team/star', star.digest!, { token: all })).status).toBe(202);

    const catalog = (actions: string[]) =>
      client.request('GET', '/v2/_catalog', { token: token({ type: 'registry', name: 'catalog', actions }) });
    expect((await catalog(['*'])).status).toBe(200);
    expect((await catalog(['pull'])).status).toBe(401);
  });
});
