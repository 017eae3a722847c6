// The token server of a registry that uses token authentication (distribution's `auth.token`,
// docs/spec/auth/token.md): the registry answers a client without a token 401 with
// `WWW-Authenticate: Bearer realm=…,service=…,scope=…`; the client asks the realm for a token with
// its login and retries with `Authorization: Bearer <JWT>`. Here in Node, as the test's part of a
// user's infrastructure (docker_auth, Harbor's core, a cloud's token service): it checks the login
// and grants of the requested scope what the user may, in an ES256 JWT whose header carries the
// signing certificate (x5c), which distribution verifies against its `rootcertbundle`
// (registry/auth/token/token.go verifyCertChain) before it reads the claims (iss, aud = service,
// exp/nbf, access).
// Both ways a client asks are answered: GET with Basic credentials (the spec's; go-containerregistry
// and the node agent) and the OAuth2 POST with grant_type=password (docs/spec/auth/oauth.md;
// containerd tries it first when it has a password). Every answer, refusals included, is recorded
// for the test to assert on, without the credentials or the tokens.
import { X509Certificate, createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A login the server knows and what it may do: the actions of `actions` it grants on a resource (scope type, name). */
export interface TokenUser {
  readonly password: string;
  may(type: string, name: string): readonly string[];
}

/** One answer of the token server. */
export interface TokenRequest {
  readonly method: 'GET' | 'POST';
  /** The client's User-Agent (containerd names itself; Go's default client is Go-http-client). */
  readonly agent: string;
  /** The login the client gave ('' for none). */
  readonly user: string;
  readonly status: number;
  /** The scopes asked for, as the client wrote them (`repository:team/x:pull,push`). */
  readonly asked: readonly string[];
  /** What the token grants, one `type:name:actions` per resource (empty for a refusal, or a user who may do none of it). */
  readonly granted: readonly string[];
}

export interface TokenServer {
  /** The realm URL to configure in the registry. */
  readonly realm: string;
  /** Every answer so far, in order. */
  readonly requests: readonly TokenRequest[];
  close(): Promise<void>;
}

export interface TokenServerOptions {
  /** host:port to listen on (HTTPS). */
  readonly listen: string;
  /** The serving certificate and key (PEM). */
  readonly tls: { cert: string; key: string };
  /** The signing certificate (PEM, its chain up to the registry's rootcertbundle) and its EC P-256 key (PEM). */
  readonly signing: { cert: string; key: string };
  readonly issuer: string;
  /** The registry's service name: the tokens' audience. */
  readonly service: string;
  readonly users: Readonly<Record<string, TokenUser>>;
  /** A file to which each answer is appended as a JSON line (for a reader of a failed run). */
  readonly logFile?: string;
  readonly ttlSeconds?: number;
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** A scope `type:name:actions` (name may hold ':' as in `host:port/x`: the actions are after the last one). */
function parseScope(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last <= first) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter(Boolean),
  };
}

/** An ES256 JWT of `claims`, its header naming the signing certificate (x5c: base64 DER, not base64url). */
function signJwt(claims: object, key: KeyObject, certDer: Buffer): string {
  const header = { typ: 'JWT', alg: 'ES256', x5c: [certDer.toString('base64')] };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  // JWS wants the raw r||s of ECDSA (RFC 7518 3.4), not Node's default DER.
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${base64url(signature)}`;
}

/** Starts it listening; resolves once it does. */
export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const key = createPrivateKey(options.signing.key);
  if (key.asymmetricKeyType !== 'ec') throw new Error('the token server signs ES256: its key must be EC P-256');
  const certDer = new X509Certificate(options.signing.cert).raw;
  const ttl = options.ttlSeconds ?? 300;
  const requests: TokenRequest[] = [];
  const record = (entry: TokenRequest) => {
    requests.push(entry);
    if (options.logFile) appendFileSync(options.logFile, `${JSON.stringify({ at: new Date().toISOString(), ...entry })}\n`);
  };

  const answer = (req: IncomingMessage, res: ServerResponse, form: URLSearchParams) => {
    const method = req.method === 'POST' ? 'POST' : 'GET';
    const agent = req.headers['user-agent'] ?? '';
    let user = '';
    let password = '';
    if (method === 'POST') {
      // OAuth2 password grant (containerd: grant_type, username, password, scope space-separated, service, client_id).
      if (form.get('grant_type') === 'password') {
        user = form.get('username') ?? '';
        password = form.get('password') ?? '';
      }
    } else {
      const [scheme, encoded] = (req.headers.authorization ?? '').split(' ', 2);
      if (scheme?.toLowerCase() === 'basic' && encoded) {
        const decoded = Buffer.from(encoded, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon > 0) [user, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
      }
    }
    const asked = form.getAll('scope').flatMap((s) => s.split(' ').filter(Boolean));
    const known = options.users[user];
    if (!known || known.password !== password) {
      record({ method, agent, user, status: 401, asked, granted: [] });
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="migbench-test-token"' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'wrong login' }] }));
      return;
    }
    // The spec's rule: grant the intersection of what was asked and what the user may; a scope
    // the user may do none of is left out (the registry then refuses the request, 401 insufficient_scope).
    const access: { type: string; name: string; actions: string[] }[] = [];
    for (const scope of asked) {
      const parsed = parseScope(scope);
      if (!parsed) continue;
      const allowed = known.may(parsed.type, parsed.name);
      const actions = parsed.actions.filter((a) => allowed.includes(a) || allowed.includes('*'));
      if (actions.length) access.push({ type: parsed.type, name: parsed.name, actions });
    }
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt(
      { iss: options.issuer, sub: user, aud: options.service, exp: now + ttl, nbf: now - 1, iat: now, jti: randomUUID(), access },
      key,
      certDer,
    );
    record({ method, agent, user, status: 200, asked, granted: access.map((a) => `${a.type}:${a.name}:${a.actions.join(',')}`) });
    res.writeHead(200, { 'content-type': 'application/json' });
    const issuedAt = new Date(now * 1000).toISOString();
    res.end(JSON.stringify({ token, access_token: token, expires_in: ttl, issued_at: issuedAt }));
  };

  const server: Server = createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => {
    const url = new URL(req.url ?? '/', `https://${options.listen}`);
    if (url.pathname !== '/token' || (req.method !== 'GET' && req.method !== 'POST')) {
      res.writeHead(404).end();
      return;
    }
    if (req.method === 'GET') return answer(req, res, url.searchParams);
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > 64 << 10) req.destroy();
    });
    req.on('end', () => answer(req, res, new URLSearchParams(body)));
  });
  const colon = options.listen.lastIndexOf(':');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(options.listen.slice(colon + 1)), options.listen.slice(0, colon), () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closed: Promise<void> | undefined;
  return {
    realm: `https://${options.listen}/token`,
    requests,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
