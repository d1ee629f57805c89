import type { Log } from '@stratum/telemetry';
import {
  type IdentityProvider,
  IdentityUnavailable,
  type IssuedToken,
  type ProjectRef,
  type RoleAssignment,
  type ValidatedToken,
} from './identity-provider';

export interface KeystoneClientOptions {
  /** `http://host:5000/v3` (with or without the trailing slash). */
  url: string;
  service: { username: string; password: string; project: string; domain: string };
  /** Domain of the users and projects callers name (password logins, the tenants' projects). */
  userDomain: string;
  timeoutMs: number;
  /** Password logins (bcrypt in Keystone): longer than `timeoutMs`. */
  loginTimeoutMs?: number;
  log: Log;
}

interface KeystoneTokenBody {
  token?: {
    expires_at?: string;
    user?: { id?: string; name?: string };
    project?: { id?: string; name?: string; domain?: { id?: string } };
    roles?: Array<{ name?: string }>;
  };
}

interface AssignmentBody {
  role_assignments?: Array<{
    role?: { name?: string };
    user?: { id?: string; name?: string };
    scope?: { project?: { id?: string; name?: string; domain?: { id?: string } } };
  }>;
}

/** Renew the service token this long before Keystone says it expires. */
const SERVICE_TOKEN_MARGIN_MS = 5 * 60_000;

/**
 * Keystone v3 over its REST API (R-AU-2), with the gateway's own service credentials:
 * - validation is `GET /v3/auth/tokens?nocatalog` with the service token in `X-Auth-Token` and the
 *   caller's in `X-Subject-Token` (404: unknown, revoked or expired);
 * - the service token is obtained on first use and renewed before it expires, or at once when Keystone
 *   answers 401 to it; concurrent callers share one renewal;
 * - network errors, timeouts and 5xx are {@link IdentityUnavailable}: the caller fails closed.
 * Nothing here writes to Keystone except issuing tokens, which is what a login is.
 */
export class KeystoneClient implements IdentityProvider {
  readonly kind = 'keystone';
  private readonly base: string;
  private serviceToken: { token: string; expiresAt: number; renewAt: number } | undefined;
  private renewing: Promise<string> | undefined;

  constructor(private readonly options: KeystoneClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
  }

  async validateToken(token: string): Promise<ValidatedToken | null> {
    const response = await this.withServiceToken((serviceToken) =>
      this.request('GET', '/auth/tokens?nocatalog', {
        'x-auth-token': serviceToken,
        'x-subject-token': token,
      }),
    );
    if (response.status === 404) return null;
    if (!response.ok) throw await this.unexpected('token validation', response);
    return parseToken((await response.json()) as KeystoneTokenBody);
  }

  async issueToken(input: {
    username: string;
    password: string;
    project?: string;
  }): Promise<IssuedToken | null> {
    const domain = { name: this.options.userDomain };
    const body = {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: input.username, domain, password: input.password } },
        },
        ...(input.project ? { scope: { project: { name: input.project, domain } } } : {}),
      },
    };
    const response = await this.request('POST', '/auth/tokens?nocatalog', {}, body);
    // 401: wrong user or password, or no role on the project asked for.
    if (response.status === 401 || response.status === 404) return null;
    if (!response.ok) throw await this.unexpected('login', response);
    const token = response.headers.get('x-subject-token');
    if (!token) throw new IdentityUnavailable('Keystone issued a token without X-Subject-Token');
    return { token, validated: parseToken((await response.json()) as KeystoneTokenBody) };
  }

  userAssignments(userId: string): Promise<RoleAssignment[]> {
    return this.assignments(`user.id=${encodeURIComponent(userId)}`);
  }

  projectAssignments(projectId: string): Promise<RoleAssignment[]> {
    return this.assignments(`scope.project.id=${encodeURIComponent(projectId)}`);
  }

  async listProjects(): Promise<ProjectRef[]> {
    const domainId = await this.domainId(this.options.userDomain);
    const response = await this.withServiceToken((serviceToken) =>
      this.request('GET', `/projects?enabled=true&domain_id=${encodeURIComponent(domainId)}`, {
        'x-auth-token': serviceToken,
      }),
    );
    if (!response.ok) throw await this.unexpected('listing projects', response);
    const body = (await response.json()) as { projects?: Array<{ id?: string; name?: string }> };
    return (body.projects ?? [])
      .filter((p): p is { id: string; name: string } => !!p.id && !!p.name)
      .map(({ id, name }) => ({ id, name }));
  }

  /** Effective assignments (groups expanded, implied roles included) with names, in one call. */
  private async assignments(filter: string): Promise<RoleAssignment[]> {
    const response = await this.withServiceToken((serviceToken) =>
      this.request('GET', `/role_assignments?effective&include_names&${filter}`, {
        'x-auth-token': serviceToken,
      }),
    );
    if (!response.ok) throw await this.unexpected('reading role assignments', response);
    const body = (await response.json()) as AssignmentBody;
    const out: RoleAssignment[] = [];
    for (const a of body.role_assignments ?? []) {
      const project = a.scope?.project;
      if (!a.user?.id || !a.role?.name || !project?.id) continue; // domain or system scope: not a tenant
      out.push({
        userId: a.user.id,
        userName: a.user.name ?? a.user.id,
        projectId: project.id,
        projectName: project.name ?? project.id,
        projectDomainId: project.domain?.id ?? '',
        roleName: a.role.name,
      });
    }
    return out;
  }

  private domainIds = new Map<string, string>();

  private async domainId(name: string): Promise<string> {
    if (name.toLowerCase() === 'default') return 'default';
    const known = this.domainIds.get(name);
    if (known) return known;
    const response = await this.withServiceToken((serviceToken) =>
      this.request('GET', `/domains?name=${encodeURIComponent(name)}`, { 'x-auth-token': serviceToken }),
    );
    if (!response.ok) throw await this.unexpected('looking up the domain', response);
    const id = ((await response.json()) as { domains?: Array<{ id?: string }> }).domains?.[0]?.id;
    if (!id) throw new IdentityUnavailable(`Keystone has no domain named ${name} (KEYSTONE_USER_DOMAIN)`);
    this.domainIds.set(name, id);
    return id;
  }

  /** Runs `call` with a valid service token; once more with a fresh one if Keystone says 401 to it. */
  private async withServiceToken(call: (token: string) => Promise<Response>): Promise<Response> {
    const first = await call(await this.currentServiceToken());
    if (first.status !== 401) return first;
    // Keystone no longer accepts the service token (revoked, keys rotated): renew once and retry.
    this.serviceToken = undefined;
    return call(await this.currentServiceToken());
  }

  private currentServiceToken(): Promise<string> {
    const held = this.serviceToken;
    if (held && held.renewAt > Date.now()) return Promise.resolve(held.token);
    return (this.renewing ??= this.renewServiceToken().finally(() => (this.renewing = undefined)));
  }

  private async renewServiceToken(): Promise<string> {
    const { username, password, project, domain } = this.options.service;
    const body = {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: username, domain: { name: domain }, password } },
        },
        scope: { project: { name: project, domain: { name: domain } } },
      },
    };
    const response = await this.request('POST', '/auth/tokens?nocatalog', {}, body);
    if (response.status === 401) {
      // Not a transient failure: the operator must fix the credentials. Still fail closed.
      throw new IdentityUnavailable(
        `Keystone refused the gateway's service credentials (user ${username}, project ${project}); check KEYSTONE_SERVICE_USERNAME, KEYSTONE_SERVICE_PASSWORD and KEYSTONE_SERVICE_PROJECT`,
      );
    }
    if (!response.ok) throw await this.unexpected('renewing the service token', response);
    const token = response.headers.get('x-subject-token');
    const parsed = parseToken((await response.json()) as KeystoneTokenBody);
    if (!token) throw new IdentityUnavailable('Keystone issued a service token without X-Subject-Token');
    // Renew five minutes before expiry, or after two thirds of a short lifetime.
    const lifetime = parsed.expiresAt - Date.now();
    const renewAt = parsed.expiresAt - Math.min(SERVICE_TOKEN_MARGIN_MS, lifetime / 3);
    this.serviceToken = { token, expiresAt: parsed.expiresAt, renewAt };
    this.options.log.info('keystone service token renewed', {
      expiresAt: new Date(parsed.expiresAt).toISOString(),
    });
    return token;
  }

  private async request(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<Response> {
    // A body means a password login (the only POST): Keystone hashes the password first.
    const timeoutMs = body ? (this.options.loginTimeoutMs ?? this.options.timeoutMs) : this.options.timeoutMs;
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      return await this.fetchOnce(method, path, headers, body, deadline);
    } catch (error) {
      // A GET is idempotent: once more if the server closed a kept-alive connection under us (a
      // reset, not a timeout), within the same deadline.
      const code = (error as Error & { cause?: { code?: string } }).cause?.code;
      if (method !== 'GET' || deadline.aborted || !(code === 'UND_ERR_SOCKET' || code === 'ECONNRESET')) {
        throw this.unavailableFrom(error, timeoutMs);
      }
    }
    try {
      return await this.fetchOnce(method, path, headers, body, deadline);
    } catch (error) {
      throw this.unavailableFrom(error, timeoutMs);
    }
  }

  private unavailableFrom(error: unknown, timeoutMs: number): IdentityUnavailable {
    const cause = (error as Error & { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    return new IdentityUnavailable(
      `Keystone at ${this.base} did not answer (${cause === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : cause})`,
    );
  }

  private fetchOnce(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: unknown,
    signal: AbortSignal,
  ): Promise<Response> {
    return fetch(`${this.base}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body ? JSON.stringify(body) : undefined,
      signal,
    });
  }

  private async unexpected(what: string, response: Response): Promise<IdentityUnavailable> {
    const text = (await response.text().catch(() => '')).slice(0, 300);
    return new IdentityUnavailable(`Keystone answered ${response.status} to ${what}: ${text}`);
  }
}

function parseToken(body: KeystoneTokenBody): ValidatedToken {
  const t = body.token;
  if (!t?.user?.id || !t.expires_at) {
    throw new IdentityUnavailable('Keystone returned a token without user or expiry');
  }
  return {
    userId: t.user.id,
    userName: t.user.name ?? t.user.id,
    project: t.project?.id
      ? { id: t.project.id, name: t.project.name ?? t.project.id, domainId: t.project.domain?.id ?? '' }
      : null,
    roleNames: [...new Set((t.roles ?? []).map((r) => r.name).filter((n): n is string => !!n))].sort(),
    expiresAt: Date.parse(t.expires_at),
  };
}
