// What integration tests look at on the host: every object migbench can leave behind.
import { existsSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { BRIDGE, CGROUP_PARENT, OBJECT_PREFIX, VETH_PREFIX } from '../../src/platforms/local/names.ts';
import { CRIU_KDAT, PROVIDED_MARKER } from '../../src/platforms/local/criu-kernel-cache.ts';

export interface HostObjects {
  containers: string[];
  netns: string[];
  links: string[];
  iptables: string[];
  cgroups: string[];
  /** CRIU's kernel-facts cache a run provided (local.criuKernelCache: auto), with its marker. */
  kernelCache: string[];
}

const lines = (cmd: string, args: string[]) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  } catch {
    return [];
  }
};

export function migbenchObjects(): HostObjects {
  const cgroupRoots = existsSync('/sys/fs/cgroup/cgroup.controllers') ? ['/sys/fs/cgroup'] : readdirSync('/sys/fs/cgroup').map((h) => `/sys/fs/cgroup/${h}`);
  return {
    containers: lines('runc', ['list', '-q']).filter((id) => id.startsWith(OBJECT_PREFIX)),
    netns: lines('ip', ['netns', 'list'])
      .map((l) => l.split(' ')[0]!)
      .filter((n) => n.startsWith(OBJECT_PREFIX)),
    links: readdirSync('/sys/class/net').filter((l) => l === BRIDGE || new RegExp(`^${VETH_PREFIX}\\d+$`).test(l)),
    iptables: [...lines('iptables', ['-t', 'nat', '-S']), ...lines('iptables', ['-t', 'filter', '-S'])].filter((l) => l.includes('MIGBENCH')),
    cgroups: cgroupRoots.filter(
      (r) => existsSync(`${r}/${CGROUP_PARENT}`) && readdirSync(`${r}/${CGROUP_PARENT}`, { withFileTypes: true }).some((d) => d.isDirectory()),
    ),
    kernelCache: existsSync(PROVIDED_MARKER) ? [PROVIDED_MARKER, ...(existsSync(CRIU_KDAT) ? [CRIU_KDAT] : [])] : [],
  };
}

export const NOTHING: HostObjects = { containers: [], netns: [], links: [], iptables: [], cgroups: [], kernelCache: [] };

export const silentEvents = { emit: () => undefined };

export function recordingEvents() {
  const events: { source: string; event: string; detail?: string }[] = [];
  return { events, emit: (source: string, event: string, detail?: string) => void events.push({ source, event, ...(detail ? { detail } : {}) }) };
}
