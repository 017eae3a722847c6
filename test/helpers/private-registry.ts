// A private registry beside the lab's, as users' clusters pull from: the same distribution binary
// (lab-registry.ts), but HTTPS with a certificate of a CA made here and a login, on the lab
// network's host address (where the nodes reach the lab's registry; this host's loopback is not
// reachable from a node's network namespace). The login is either htpasswd (Basic: the registry
// checks the password itself) or token authentication (Bearer: the registry sends clients to a token
// server, registry-token-server.ts, started here beside it, and trusts the JWTs it signs).
// Its configuration under CLUSTER_RUN_DIR and its storage under CLUSTER_DATA_DIR: should a test die
// before stop(), `migbench cluster stop` ends the process (host-state.ts nodeProcesses: a
// node-cache binary naming the lab's directories) and removes both; the token server lives in the
// test's process and ends with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { signCertificate } from '../../src/lab/nodes/configs.ts';
import { CLUSTER_DATA_DIR, CLUSTER_RUN_DIR, HOST_ADDRESS } from '../../src/lab/nodes/layout.ts';
import { exec } from '../../src/system/exec.ts';
import { startTokenServer, type TokenServer } from './registry-token-server.ts';

/** Beside the lab's registry (port 5000) on the same address. */
const DEFAULT_PORT = 5443;
const USER = 'migbench-lab';
/** Token authentication only: a second login that may pull and nothing else (as a cluster's nodes are given). */
const PULL_USER = 'migbench-lab-pull';
const PULL_PASSWORD = 'migbench-lab-pull-login';
/** The repositories the logins may use: the workloads' images and the agent's checkpoint images. */
const TEST_REPOSITORY = /^migbench(-checkpoint)?\//;
/** A throwaway login of a registry that lives for one test file on the lab network. */
const PASSWORD = 'migbench-lab-tls-login';
/**
 * bcrypt of PASSWORD (cost 4), the only hash distribution's htpasswd accepts; made once with Go's
 * golang.org/x/crypto/bcrypt (as agent/registry_auth_test.go does) since neither Node nor this host
 * has bcrypt. The registry refusing the login would fail the test's first push.
 */
const PASSWORD_BCRYPT = '$2a$04$.XuTbOWuRW9AMYehDyU0JeBI7uT4gTsjXS/nZTufxfaFbYHRCWQVW';

export interface PrivateRegistryOptions {
  /** Its directory's name under CLUSTER_RUN_DIR and CLUSTER_DATA_DIR (default test-private-registry). */
  readonly name?: string;
  /** Its port on the lab address (default 5443); with token authentication the token server listens on the next one. */
  readonly port?: number;
  /**
   * htpasswd (default): one login, any action. token: distribution's `auth.token` and a token server
   * that grants `user` pull, push and delete on migbench/… and migbench-checkpoint/… (and the
   * catalog), `pullLogin` pull only.
   */
  readonly auth?: 'htpasswd' | 'token';
}

export interface PrivateRegistry {
  /** host:port, as image references name it. */
  readonly host: string;
  readonly auth: 'htpasswd' | 'token';
  /** Its configuration, certificates and logins; its storage. */
  readonly dir: string;
  readonly storage: string;
  /** The CA's certificate (PEM), what clients must trust. */
  readonly caFile: string;
  readonly caPem: string;
  readonly user: string;
  readonly password: string;
  /** Token authentication: a login the token server grants pull only. */
  readonly pullLogin?: { readonly user: string; readonly password: string };
  /** Token authentication: the token server, with each answer it gave. */
  readonly tokens?: TokenServer;
  /** A directory with a docker config.json holding the login (for crane: DOCKER_CONFIG). */
  readonly dockerConfigDir: string;
  readonly log: string;
  /** GET `path` over TLS trusting the CA, with the login (through a token where the registry wants one) unless `anonymous`. */
  get(path: string, anonymous?: boolean): Promise<{ status: number; body: string; challenge: string }>;
  /** The repositories it holds (/v2/_catalog). */
  catalog(): Promise<string[]>;
  pid(): number | undefined;
  /** Ends the registry (and its token server) and removes its certificates, logins and storage. Idempotent. */
  stop(): Promise<void>;
}

/** GET `url` trusting `ca`; the status, the body and the WWW-Authenticate challenge. */
function httpsGet(url: string, ca: string, headers: Record<string, string>): Promise<{ status: number; body: string; challenge: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, challenge: String(res.headers['www-authenticate'] ?? '') }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** The parameters of a `Bearer realm="…",service="…",scope="…"` challenge (its values hold no quotes). */
const bearerParams = (challenge: string): Record<string, string> =>
  Object.fromEntries([...challenge.replace(/^Bearer\s+/i, '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));

/** Starts it with `binary` (NodeBinaries.registry) once the lab network is up; resolves when /v2/ asks for the login over TLS. */
export async function startPrivateRegistry(binary: string, options: PrivateRegistryOptions = {}, openssl = 'openssl'): Promise<PrivateRegistry> {
  const name = options.name ?? 'test-private-registry';
  const mode = options.auth ?? 'htpasswd';
  const port = options.port ?? DEFAULT_PORT;
  const dir = join(CLUSTER_RUN_DIR, name);
  const storage = join(CLUSTER_DATA_DIR, name);
  const host = `${HOST_ADDRESS}:${port}`;
  await rm(dir, { recursive: true, force: true });
  await rm(storage, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await mkdir(storage, { recursive: true });
  // signCertificate wants <pkiDir>/ca.{crt,key}: the CA first, then the registry's certificate for the lab address.
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const caFile = join(dir, 'ca.crt');
  await exec(
    openssl,
    ['req', '-x509', '-new', ...ecKey, '-keyout', join(dir, 'ca.key'), '-out', caFile, '-days', '2', '-subj', '/CN=migbench-test-private-registry-ca'],
    {
      timeoutMs: 30_000,
    },
  );
  const serving = await signCertificate(
    openssl,
    dir,
    join(dir, 'serving'),
    'registry',
    '/CN=migbench-test-private-registry',
    `extendedKeyUsage=serverAuth\nsubjectAltName=IP:${HOST_ADDRESS}`,
  );
  const dockerConfigDir = join(dir, 'docker');
  await mkdir(dockerConfigDir, { mode: 0o700 });
  const auth = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
  await writeFile(join(dockerConfigDir, 'config.json'), JSON.stringify({ auths: { [host]: { auth } } }), { mode: 0o600 });
  const caPem = await readFile(caFile, 'utf8');
  let tokens: TokenServer | undefined;
  let authConfig: object;
  if (mode === 'htpasswd') {
    const htpasswd = join(dir, 'htpasswd');
    await writeFile(htpasswd, `${USER}:${PASSWORD_BCRYPT}\n`, { mode: 0o600 });
    authConfig = { htpasswd: { realm: 'migbench-test-private', path: htpasswd } };
  } else {
    // The tokens' signing certificate, issued by the same CA: distribution's rootcertbundle is the
    // CA, and the JWT's x5c the signing certificate (the chain it verifies).
    const signing = await signCertificate(openssl, dir, join(dir, 'token-signing'), 'signing', '/CN=migbench-test-token-issuer', 'subjectKeyIdentifier=hash');
    const service = `migbench-test-${name}`;
    const issuer = 'migbench-test-token-issuer';
    const onTestRepositories = (type: string, repository: string, actions: string[]) =>
      type === 'repository' && TEST_REPOSITORY.test(repository) ? actions : [];
    tokens = await startTokenServer({
      // The serving certificate names the lab address, so the token server (another port there) uses it too.
      listen: `${HOST_ADDRESS}:${port + 1}`,
      tls: { cert: await readFile(serving.crt, 'utf8'), key: await readFile(serving.key, 'utf8') },
      signing: { cert: await readFile(signing.crt, 'utf8'), key: await readFile(signing.key, 'utf8') },
      issuer,
      service,
      users: {
        [USER]: {
          password: PASSWORD,
          may: (type, repository) =>
            type === 'registry' && repository === 'catalog' ? ['*'] : onTestRepositories(type, repository, ['pull', 'push', 'delete']),
        },
        [PULL_USER]: { password: PULL_PASSWORD, may: (type, repository) => onTestRepositories(type, repository, ['pull']) },
      },
      logFile: join(dir, 'tokens.log'),
    });
    authConfig = { token: { realm: tokens.realm, service, issuer, rootcertbundle: caFile } };
  }
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    stringify({
      version: 0.1,
      log: { level: 'warn', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: storage }, delete: { enabled: true } },
      http: { addr: host, tls: { certificate: serving.crt, key: serving.key } },
      auth: authConfig,
    }),
  );
  const log = join(dir, 'registry.log');
  const fd = openSync(log, 'a');
  // No OpenTelemetry export (lab-registry.ts: distribution traces to localhost:4318 by default).
  const env = { ...process.env, OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' };
  const child: ChildProcess = spawn(binary, ['serve', config], { stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  let exited: string | undefined;
  const gone = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = signal ?? `exit ${code}`;
      resolve();
    });
    child.once('error', (err) => {
      exited = err.message;
      resolve();
    });
  });
  const basic = { authorization: `Basic ${auth}` };
  const get = async (path: string, anonymous = false) => {
    const url = `https://${host}${path}`;
    if (anonymous) return httpsGet(url, caPem, {});
    const first = await httpsGet(url, caPem, basic);
    if (first.status !== 401 || !/^Bearer /i.test(first.challenge)) return first;
    // Token authentication: a token for the challenge's scope from its realm, with the login, then the request with it.
    const { realm, service, scope } = bearerParams(first.challenge);
    const query = new URLSearchParams({ service: service ?? '', ...(scope ? { scope } : {}) });
    const answer = await httpsGet(`${realm}?${query}`, caPem, basic);
    if (answer.status !== 200) return { ...answer, challenge: first.challenge };
    return httpsGet(url, caPem, { authorization: `Bearer ${(JSON.parse(answer.body) as { token: string }).token}` });
  };

  const stop = async () => {
    await tokens?.close();
    if (exited === undefined) {
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(killed);
    }
    await rm(dir, { recursive: true, force: true });
    await rm(storage, { recursive: true, force: true });
  };

  const deadline = performance.now() + 30_000;
  for (;;) {
    if (exited !== undefined) {
      const text = await readFile(log, 'utf8').catch(() => '');
      await stop();
      throw new Error(`the private registry exited (${exited}): ${text.slice(-2000)}`);
    }
    // Up once it answers the anonymous /v2/ with the login it wants (401), over TLS that the CA verifies.
    const status = await get('/v2/', true).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 401) break;
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`the private registry did not answer on https://${host}/v2/ within 30 s (last status ${status})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    auth: mode,
    dir,
    storage,
    caFile,
    caPem,
    user: USER,
    password: PASSWORD,
    ...(mode === 'token' ? { pullLogin: { user: PULL_USER, password: PULL_PASSWORD }, tokens } : {}),
    dockerConfigDir,
    log,
    get,
    catalog: async () => {
      const r = await get('/v2/_catalog');
      if (r.status !== 200) throw new Error(`GET https://${host}/v2/_catalog: ${r.status} ${r.body}`);
      return (JSON.parse(r.body) as { repositories: string[] | null }).repositories ?? [];
    },
    pid: () => (exited === undefined ? child.pid : undefined),
    stop,
  };
}
