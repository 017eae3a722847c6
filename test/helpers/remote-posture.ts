// The harness as a user of someone else's cluster runs it: given a kubeconfig and nothing else. The
// CLI runs in its own mount and pid namespace (unshare) in which the lab's state, caches and run
// directories, the network namespaces' names and cgroupfs are empty tmpfs mounts and the lab's node
// processes are not there to see: a kubernetes run that read the lab's state file, a host path of a
// node, ran the lab's `ctr` or entered a node's netns fails there. Only the network is shared, so the
// API server (and, through it, the nodes and the agents) is reachable as from any client machine.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { CLUSTER_DATA_DIR, CLUSTER_RUN_DIR } from '../../src/lab/nodes/layout.ts';
import { AGENT_CACHE_DIR } from '../../src/lab/build/agent-image.ts';
import { argsForAttempt } from './attempt.ts';

/** What the lab keeps on this host, hidden from the harness (/var/cache/migbench holds every lab build: kubelet, containerd, ctr, the registry). */
export const HIDDEN_FROM_REMOTE = [CLUSTER_RUN_DIR, CLUSTER_DATA_DIR, AGENT_CACHE_DIR.replace(/\/agent$/, ''), '/run/netns', '/sys/fs/cgroup'] as const;

/**
 * A copy of `kubeconfig` at `dir`/kubeconfig that stands alone: every certificate and key inline, so
 * it names no file of the lab. Throws if it names a file it cannot inline.
 */
export function standaloneKubeconfig(kubeconfig: string, dir: string): string {
  const config = parse(readFileSync(kubeconfig, 'utf8'));
  const inline = (entry: Record<string, string> | undefined, field: string) => {
    if (entry?.[field] === undefined) return;
    entry[`${field}-data`] = readFileSync(entry[field]).toString('base64');
    delete entry[field];
  };
  for (const c of config.clusters ?? []) inline(c.cluster, 'certificate-authority');
  for (const u of config.users ?? []) {
    inline(u.user, 'client-certificate');
    inline(u.user, 'client-key');
    if (u.user?.tokenFile || u.user?.exec) throw new Error(`kubeconfig ${kubeconfig}: user ${u.name} needs a file or program to authenticate`);
  }
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, stringify(config), { mode: 0o600 });
  return file;
}

/** The shell run as pid 1 of the new namespaces: the lab hidden, the check that it is, then the CLI. */
const SCRIPT = `
set -e
for d in ${HIDDEN_FROM_REMOTE.join(' ')}; do
  if [ -d "$d" ]; then mount -t tmpfs -o size=64k,mode=0755 migbench-remote "$d"; fi
done
# The namespaces really hide the lab (or the test would prove nothing).
for d in ${HIDDEN_FROM_REMOTE.join(' ')}; do
  if [ -d "$d" ] && [ -n "$(ls -A "$d")" ]; then echo "remote posture: $d is still visible" >&2; exit 97; fi
done
if command -v ctr >/dev/null 2>&1; then echo "remote posture: ctr is on PATH ($(command -v ctr))" >&2; exit 97; fi
if ps -eo comm= | grep -qE '^(kubelet|containerd|kube-apiserver|registry)$'; then echo "remote posture: node processes are visible" >&2; exit 97; fi
exec sh bin/migbench "$@"
`;

/**
 * `migbench <args>` in the remote posture, with KUBECONFIG=`kubeconfig` (a standalone copy) and
 * nothing else of the lab. Exit code 97: the posture itself could not be set up.
 */
export function migbenchRemote(
  args: string[],
  kubeconfig: string,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(
      'unshare',
      [
        '--mount',
        '--pid',
        '--fork',
        '--mount-proc',
        '--propagation',
        'private',
        '--kill-child',
        'sh',
        '-c',
        SCRIPT,
        'migbench-remote',
        ...argsForAttempt(args),
      ],
      {
        env: { ...process.env, KUBECONFIG: kubeconfig },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // SIGKILL of the namespace's first process ends every process in it (the pid namespace goes with it).
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    });
  });
}
