// The lab's image registry: the CNCF distribution registry (built in lab/build/node-build.ts) on
// the lab network's host address, plain HTTP, started by `migbench cluster start` once the network
// is up and ended with the node processes by `migbench cluster stop` (its binary is in the node
// cache and its config under CLUSTER_RUN_DIR, so host-state.ts' nodeProcesses finds it without a
// state file). The nodes' containerd reach it through hosts.toml (registryHostsToml) as any
// cluster's would a private registry; `migbench images build --load lab` pushes into it.
// trustRegistry adds another registry to the nodes as a user's cluster is set up to pull from a
// private one speaking TLS with its own CA (a hosts.toml naming the CA).
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CLUSTER_DATA_DIR, CLUSTER_RUN_DIR, HOST_ADDRESS } from './layout.ts';

const LAB_REGISTRY_PORT = 5000;
/** host:port, as image references name it (e.g. 198.19.240.1:5000/migbench/redis@sha256:…). */
export const LAB_REGISTRY = `${HOST_ADDRESS}:${LAB_REGISTRY_PORT}`;
const REGISTRY_DIR = join(CLUSTER_RUN_DIR, 'registry');
/** Disk-backed, removed with the cluster's data by stop: a new lab starts with an empty registry. */
const REGISTRY_STORAGE = join(CLUSTER_DATA_DIR, 'registry');
const REGISTRY_LOG = join(CLUSTER_RUN_DIR, 'logs', 'registry.log');

/** distribution's configuration (docs/content/about/configuration.md): filesystem storage, HTTP on the lab address only. */
function registryConfig(): string {
  return stringify({
    version: 0.1,
    log: { level: 'warn', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: REGISTRY_STORAGE }, delete: { enabled: true } },
    http: { addr: LAB_REGISTRY },
  });
}

/**
 * containerd's registry host configuration (docs/hosts.md) for the lab registry, written to
 * <config_path>/<host:port>/hosts.toml: plain HTTP, pull and resolve. Only this host is listed, so
 * every other registry keeps containerd's defaults.
 */
export function registryHostsToml(): string {
  return `# migbench cluster: the lab's registry, plain HTTP on the lab network\nserver = "http://${LAB_REGISTRY}"\n\n[host."http://${LAB_REGISTRY}"]\n  capabilities = ["pull", "resolve"]\n`;
}

/** Writes the hosts.toml of the lab registry under `configPath` (containerd's registry config_path). */
export async function writeRegistryHosts(configPath: string): Promise<void> {
  await mkdir(join(configPath, LAB_REGISTRY), { recursive: true });
  await writeFile(join(configPath, LAB_REGISTRY, 'hosts.toml'), registryHostsToml());
}

/** containerd's registry config_path of the lab's node `node` (configs.ts containerdConfig): one hosts.toml directory per registry host. */
export const nodeRegistryConfigPath = (node: string): string => join(CLUSTER_RUN_DIR, 'nodes', node, 'certs.d');

/**
 * Has the lab's `nodes` pull from the registry at `host` (host:port) over HTTPS trusting `caPem`, as
 * a user's nodes are set up for a private registry with its own CA: <config_path>/<host>/ca.crt and
 * a hosts.toml naming it (containerd docs/hosts.md `ca`). containerd reads a host's directory at each
 * pull, so the running nodes need no restart. Returns the directories written, for untrustRegistry;
 * under CLUSTER_RUN_DIR, so `cluster stop` removes them too.
 */
export async function trustRegistry(nodes: readonly string[], host: string, caPem: string): Promise<string[]> {
  if (!/^[a-z0-9.-]+:\d+$/i.test(host)) throw new Error(`trustRegistry: ${host} is not host:port`);
  const dirs: string[] = [];
  for (const node of nodes) {
    const dir = join(nodeRegistryConfigPath(node), host);
    await mkdir(dir, { recursive: true });
    dirs.push(dir);
    const ca = join(dir, 'ca.crt');
    await writeFile(ca, caPem);
    await writeFile(
      join(dir, 'hosts.toml'),
      `# a private registry: HTTPS with its own CA\nserver = "https://${host}"\n\n[host."https://${host}"]\n  capabilities = ["pull", "resolve"]\n  ca = ${JSON.stringify(ca)}\n`,
    );
  }
  return dirs;
}

/** Takes trustRegistry's configuration of `host` off the lab's `nodes`: their containerd no longer knows its CA. */
export async function untrustRegistry(nodes: readonly string[], host: string): Promise<void> {
  if (!/^[a-z0-9.-]+:\d+$/i.test(host)) throw new Error(`untrustRegistry: ${host} is not host:port`);
  for (const node of nodes) await rm(join(nodeRegistryConfigPath(node), host), { recursive: true, force: true });
}

/** Starts the registry (detached, it outlives migbench) and waits until it answers /v2/. */
export async function startLabRegistry(binary: string): Promise<{ pid: number; exited: Promise<string> }> {
  await mkdir(REGISTRY_DIR, { recursive: true });
  await mkdir(REGISTRY_STORAGE, { recursive: true });
  const config = join(REGISTRY_DIR, 'config.yml');
  await writeFile(config, registryConfig());
  const log = openSync(REGISTRY_LOG, 'a');
  // No OpenTelemetry export: distribution traces to localhost:4318 by default, where nothing listens.
  const env = { ...process.env, OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' };
  const child = spawn(binary, ['serve', config], { detached: true, stdio: ['ignore', log, log], env });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${binary}`);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(`registry exited (${signal ?? `exit ${code}`}); log: ${REGISTRY_LOG}`));
    child.once('error', (err) => resolve(`registry could not be started: ${err.message}`));
  });
  child.unref();
  let stopped: string | undefined;
  void exited.then((why) => (stopped = why));
  const deadline = performance.now() + 30_000;
  for (;;) {
    if (stopped) throw new Error(`migbench cluster: ${stopped}`);
    const ok = await fetch(`http://${LAB_REGISTRY}/v2/`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { pid: child.pid, exited };
    if (performance.now() > deadline)
      throw new Error(`migbench cluster: the registry did not answer on http://${LAB_REGISTRY}/v2/ within 30 s; log: ${REGISTRY_LOG}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
