// What the platforms get from this host, put together for the commands that run them (run,
// cleanup): the host setup installs the local platform's tools (src/setup/), and the lab's real
// nodes are reached by their files on this host (src/lab/nodes/). Here, at the top, so that the
// platforms never import the setup or the lab.
import { labNodeAccess } from '../lab/nodes/node-access.ts';
import { platformDrivers } from '../platforms/registry.ts';
import type { HostTools } from '../platforms/local/driver/host-tools.ts';
import { findCriu } from '../setup/criu-detect.ts';
import { ensurePrerequisites, toolVersions } from '../setup/prerequisites.ts';
import { ensureWorkloadPrerequisites } from '../setup/workload-prerequisites.ts';
import { run } from '../system/exec.ts';

async function which(tool: string): Promise<string> {
  return (await run('sh', ['-c', `command -v ${tool} || true`])) || tool;
}

const hostTools: HostTools = {
  async ensure(workloadTypes, log, commandLine) {
    const tools = await ensurePrerequisites(log, commandLine);
    const workloadVersions = await ensureWorkloadPrerequisites(workloadTypes, log);
    return {
      tools: { runc: tools.runc, criu: tools.criu, iptables: tools.iptables, ip: tools.ip },
      versions: async () => ({ ...(await toolVersions(tools)), ...workloadVersions }),
    };
  },
  async find() {
    return { runc: await which('runc'), iptables: await which('iptables'), ip: await which('ip'), criu: (await findCriu())?.path };
  },
};

/** The driver of each platform, with this host's tools and the lab's nodes. */
export function hostPlatformDrivers(): ReturnType<typeof platformDrivers> {
  return platformDrivers({ hostTools, nodeAccess: labNodeAccess });
}
