// A private registry beside the lab's, as users' clusters pull from: the same distribution binary
// (lab-registry.ts), but HTTPS with a certificate of a CA made here and a login (htpasswd), on the
// lab network's host address (where the nodes reach the lab's registry; this host's loopback is
// not reachable from a node's network namespace). Its configuration under CLUSTER_RUN_DIR and its
// storage under CLUSTER_DATA_DIR: should a test die before stop(), `migbench cluster stop` ends the
// process (host-state.ts nodeProcesses: a node-cache binary naming the lab's directories) and removes both.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { signCertificate } from '../../src/lab/nodes/configs.ts';
import { CLUSTER_DATA_DIR, CLUSTER_RUN_DIR, HOST_ADDRESS } from '../../src/lab/nodes/layout.ts';
import { exec } from '../../src/system/exec.ts';

/** Beside the lab's registry (port 5000) on the same address. */
const PORT = 5443;
const USER = 'migbench-lab';
/** A throwaway login of a registry that lives for one test file on the lab network. */
const PASSWORD = 'migbench-lab-tls-login';
/**
 * bcrypt of PASSWORD (cost 4), the only hash distribution's htpasswd accepts; made once with Go's
 * golang.org/x/crypto/bcrypt (as agent/registry_auth_test.go does) since neither Node nor this host
 * has bcrypt. The registry refusing the login would fail the test's first push.
 */
const PASSWORD_BCRYPT = '$2a$04$.XuTbOWuRW9AMYehDyU0JeBI7uT4gTsjXS/nZTufxfaFbYHRCWQVW';

export interface PrivateRegistry {
  /** host:port, as image references name it. */
  readonly host: string;
  /** The CA's certificate (PEM), what clients must trust. */
  readonly caFile: string;
  readonly caPem: string;
  readonly user: string;
  readonly password: string;
  /** A directory with a docker config.json holding the login (for crane: DOCKER_CONFIG). */
  readonly dockerConfigDir: string;
  readonly log: string;
  /** GET `path` over TLS trusting the CA, with the login unless `anonymous`. */
  get(path: string, anonymous?: boolean): Promise<{ status: number; body: string }>;
  /** The repositories it holds (/v2/_catalog). */
  catalog(): Promise<string[]>;
  pid(): number | undefined;
  /** Ends the registry and removes its certificates, login and storage. Idempotent. */
  stop(): Promise<void>;
}

export const PRIVATE_REGISTRY_DIR = join(CLUSTER_RUN_DIR, 'test-private-registry');
export const PRIVATE_REGISTRY_STORAGE = join(CLUSTER_DATA_DIR, 'test-private-registry');

/** Starts it with `binary` (NodeBinaries.registry) once the lab network is up; resolves when /v2/ asks for the login over TLS. */
export async function startPrivateRegistry(binary: string, openssl = 'openssl'): Promise<PrivateRegistry> {
  const dir = PRIVATE_REGISTRY_DIR;
  const host = `${HOST_ADDRESS}:${PORT}`;
  await rm(dir, { recursive: true, force: true });
  await rm(PRIVATE_REGISTRY_STORAGE, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await mkdir(PRIVATE_REGISTRY_STORAGE, { recursive: true });
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
  const htpasswd = join(dir, 'htpasswd');
  await writeFile(htpasswd, `${USER}:${PASSWORD_BCRYPT}\n`, { mode: 0o600 });
  const dockerConfigDir = join(dir, 'docker');
  await mkdir(dockerConfigDir, { mode: 0o700 });
  const auth = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
  await writeFile(join(dockerConfigDir, 'config.json'), JSON.stringify({ auths: { [host]: { auth } } }), { mode: 0o600 });
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    stringify({
      version: 0.1,
      log: { level: 'warn', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: PRIVATE_REGISTRY_STORAGE }, delete: { enabled: true } },
      http: { addr: host, tls: { certificate: serving.crt, key: serving.key } },
      auth: { htpasswd: { realm: 'migbench-test-private', path: htpasswd } },
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
  const caPem = await readFile(caFile, 'utf8');

  const get = (path: string, anonymous = false) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`https://${host}${path}`, { ca: caPem, headers: anonymous ? {} : { authorization: `Basic ${auth}` }, timeout: 5000 }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('timeout', () => req.destroy(new Error(`GET https://${host}${path}: no answer in 5 s`)));
      req.on('error', reject);
      req.end();
    });

  const stop = async () => {
    if (exited === undefined) {
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(killed);
    }
    await rm(dir, { recursive: true, force: true });
    await rm(PRIVATE_REGISTRY_STORAGE, { recursive: true, force: true });
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
    caFile,
    caPem,
    user: USER,
    password: PASSWORD,
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
