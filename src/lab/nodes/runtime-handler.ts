// The runtime handler on the lab's nodes (`migbench cluster start --runtime-handler`): what `migbench
// agent install --runtime-handler` does to a user's node, done by the lab at its nodes' start since
// it writes their containerd configuration anyway — the runc wrapper in the agent's state directory
// beside a `runc` link to the nodes' runc, containerd's drop-in in each node's containerd.d/ (the
// lab's containerd.toml imports it), and the RuntimeClass. `cluster stop` removes all of it with the
// cluster's directories.
import { copyFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig, NodeV1Api } from '@kubernetes/client-node';
import { RUNTIME_CLASS, runtimeHandlerDropIn } from '../../platforms/kubernetes/runtime-handler.ts';
import type { NodeBinaries } from '../build/node-build.ts';
import { ensureRuntimeHandlerBinary } from '../build/agent-image.ts';
import { LAB_AGENT_PATHS } from './agent-install.ts';
import type { NodeLayout } from './layout.ts';

/** The wrapper where the agent's state directory is (its restore/ is where the agent delivers checkpoints). */
export const LAB_RUNTIME_HANDLER = join(LAB_AGENT_PATHS.stateDir, 'bin', 'migbench-runc');

/** The directory whose *.toml each lab node's containerd imports (configs.ts). */
export const containerdDropInDir = (node: NodeLayout) => join(node.runDir, 'containerd.d');

/** Before the nodes' containerd starts: the wrapper and its runc in place, each node's drop-in written. */
export async function prepareLabRuntimeHandler(nodes: readonly NodeLayout[], binaries: NodeBinaries, progress: (line: string) => void): Promise<void> {
  const wrapper = await ensureRuntimeHandlerBinary(progress);
  const bin = join(LAB_RUNTIME_HANDLER, '..');
  await mkdir(bin, { recursive: true, mode: 0o700 });
  await copyFile(wrapper, LAB_RUNTIME_HANDLER);
  await rm(join(bin, 'runc'), { force: true });
  await symlink(binaries.runc, join(bin, 'runc'));
  for (const node of nodes) {
    await mkdir(containerdDropInDir(node), { recursive: true });
    await writeFile(join(containerdDropInDir(node), 'migbench-runtime-handler.toml'), runtimeHandlerDropIn(LAB_RUNTIME_HANDLER, false));
  }
}

/** Once the API server is up: the RuntimeClass pods name. */
export async function createRuntimeClass(kubeconfig: string): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  await kc.makeApiClient(NodeV1Api).createRuntimeClass({ body: structuredClone(RUNTIME_CLASS) as never });
}
