// `migbench agent install|uninstall|status|image`: the node agent kubelet-checkpoint's node steps run in
// (agent/; platforms/kubernetes/agent/), on the kubeconfig's cluster. install builds the agent's
// image (Go, cached by source hash) unless --image names one the nodes can pull; on the lab's nodes
// (`migbench cluster`) it uses their node paths, their containerd already holding the image.
// `image --push REGISTRY` publishes the image, linux/amd64 and linux/arm64 under one index (crane), and
// prints the index's reference by digest for --image.
// `install --runtime-handler` also puts the runtime handler on the nodes through the agents (a
// containerd drop-in and restart on each: said before it is done); uninstall takes it off first.
// `install --registry-secret/--registry-ca`: the logins and CA for pushing checkpoint images to a
// registry (agent-registry-access.ts), checked before anything is created.
import { REAL_NODE_LABEL } from '../lab/nodes/layout.ts';
import { LAB_AGENT_NODES, LAB_AGENT_PATHS } from '../lab/nodes/agent-install.ts';
import { AGENT_PLATFORMS, ensureAgentImage, pushAgentImage } from '../lab/build/agent-image.ts';
import { ensureCrane } from '../lab/build/node-build.ts';
import { agentStatus, installAgent, uninstallAgent } from '../platforms/kubernetes/agent/agent-install.ts';
import { sharedVolumeInstallProblems, type SharedVolumeChoice } from '../platforms/kubernetes/agent/agent-shared-volume.ts';
import { readRegistryCa, registryAccessOf } from '../platforms/kubernetes/agent/agent-registry-access.ts';
import { AGENT_NAMESPACE, DEFAULT_AGENT_NODE_PATHS, type AgentNodePaths } from '../platforms/kubernetes/agent/agent-manifests.ts';
import { ClusterError, connectCluster, describeApiError, type ClusterOptions } from '../platforms/kubernetes/cluster.ts';
import {
  installRuntimeHandler,
  RuntimeHandlerRefused,
  runtimeHandlerStates,
  uninstallRuntimeHandler,
} from '../platforms/kubernetes/agent/runtime-handler-install.ts';
import { CommandFailure, EXIT_TRIAL_FAILED, EXIT_USAGE } from './exit-codes.ts';

export type AgentAction = 'install' | 'uninstall' | 'status' | 'image';

export interface AgentCommandArgs {
  action: AgentAction;
  cluster: Omit<ClusterOptions, 'namespace'>;
  /** install: an image the nodes can pull (else the locally built one). */
  image?: string;
  paths: Partial<AgentNodePaths>;
  timeoutSeconds: number;
  /** image: the registry to push the agent image to (e.g. registry.example.com:5000/team). */
  push?: string;
  /** image: the registry speaks plain HTTP. */
  insecure?: boolean;
  /** install: leave out the NetworkPolicy (a CNI whose host traffic leaves from another address). */
  networkPolicy?: boolean;
  /** install: also the runtime handler migbench on every node (a containerd drop-in and restart) and its RuntimeClass. */
  runtimeHandler?: boolean;
  /** install: the ReadWriteMany volume every agent mounts (--shared-class / --shared-claim). */
  sharedVolume?: SharedVolumeChoice;
  /** install: [NAMESPACE/]NAME of a kubernetes.io/dockerconfigjson Secret, copied for the agents' registry pushes. */
  registrySecret?: string;
  /** install: a PEM CA file the agents trust for the registry, beside the system's roots. */
  registryCa?: string;
}

export async function agentCommand(args: AgentCommandArgs): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  if (args.action === 'image') {
    const image = await ensureAgentImage(progress);
    if (!args.push) {
      out(
        `migbench agent: ${image.name} (${AGENT_PLATFORMS.map((a) => `linux/${a}`).join(', ')}; OCI archive ${image.archive}); --push REGISTRY publishes it for \`migbench agent install --image\``,
      );
      return 0;
    }
    const crane = (await ensureCrane(progress)).path;
    const pushed = await pushAgentImage(crane, image, args.push, { insecure: args.insecure === true });
    out(pushed.reference);
    progress(`migbench agent: pushed in ${pushed.pushSeconds} s; install it with: migbench agent install --image ${pushed.reference}`);
    return 0;
  }
  // A local file: checked before the cluster is asked anything.
  const ca = args.action === 'install' && args.registryCa !== undefined ? await readRegistryCa(args.registryCa) : undefined;
  if (ca && 'problem' in ca) throw new CommandFailure(`migbench agent install: ${ca.problem}`, EXIT_USAGE);
  let cluster;
  try {
    cluster = connectCluster({ ...args.cluster, namespace: AGENT_NAMESPACE });
  } catch (err) {
    if (err instanceof ClusterError) throw new CommandFailure(err.message.replace(/kubernetes\.(kubeconfig|context)/g, '--$1'), EXIT_USAGE);
    throw err;
  }
  try {
    switch (args.action) {
      case 'install': {
        const lab = (await cluster.core.listNode()).items.some((n) => n.metadata?.labels?.[REAL_NODE_LABEL] === 'true');
        const paths = { ...(lab ? LAB_AGENT_PATHS : DEFAULT_AGENT_NODE_PATHS), ...args.paths };
        const registry = await registryAccessOf(cluster, args.registrySecret, ca?.pem);
        const problems = [...registry.problems, ...(args.sharedVolume ? await sharedVolumeInstallProblems(cluster, args.sharedVolume) : [])];
        if (problems.length > 0) throw new CommandFailure(`migbench agent install: ${problems.join('; ')}`, EXIT_USAGE);
        const image = args.image ?? (await ensureAgentImage(progress)).name;
        // The handler is checked on each node through the agent; a refusal leaves the cluster as it was found.
        const agentWasInstalled = args.runtimeHandler ? (await agentStatus(cluster)).installed : true;
        const status = await installAgent(cluster, image, paths, {
          ...(args.sharedVolume ? { sharedVolume: args.sharedVolume } : {}),
          registryAccess: registry.access,
          timeoutMs: args.timeoutSeconds * 1000,
          progress,
          ...(lab ? { nodeSelector: LAB_AGENT_NODES } : {}),
          ...(args.networkPolicy === false ? { networkPolicy: false } : {}),
        });
        out(`migbench agent: ${image} ready on ${status.ready} nodes (${status.pods.map((p) => p.node).join(', ')}) in namespace ${AGENT_NAMESPACE}`);
        if (registry.access.dockerConfig) out(`migbench agent: registry logins from Secret ${registry.access.dockerConfig.from} (copied, root-only)`);
        if (registry.access.caPem) out(`migbench agent: registry CA from ${args.registryCa}`);
        if (args.runtimeHandler) {
          const states = await installRuntimeHandler(cluster, { timeoutMs: args.timeoutSeconds * 1000, progress }).catch(async (err: unknown) => {
            if (err instanceof RuntimeHandlerRefused && !agentWasInstalled) {
              await uninstallAgent(cluster, args.timeoutSeconds * 1000);
              throw new RuntimeHandlerRefused(`${err.message}\n(the agent installed for it was removed again)`);
            }
            throw err;
          });
          out(
            `migbench agent: runtime handler migbench on ${states.map((s) => s.node).join(', ')} (RuntimeClass migbench; listed in each node's status.runtimeHandlers); \`migbench agent uninstall\` removes it`,
          );
        }
        return 0;
      }
      case 'uninstall': {
        for (const line of await uninstallRuntimeHandler(cluster, args.timeoutSeconds * 1000)) progress(`migbench agent: removed ${line}`);
        const removed = await uninstallAgent(cluster, args.timeoutSeconds * 1000);
        out(removed ? `migbench agent: removed (namespace ${AGENT_NAMESPACE})` : 'migbench agent: not installed');
        return 0;
      }
      case 'status': {
        const status = await agentStatus(cluster);
        if (!status.installed) {
          out('migbench agent: not installed (migbench agent install)');
          return EXIT_TRIAL_FAILED;
        }
        const registry = [status.registryAccess?.logins ? 'logins' : '', status.registryAccess?.ca ? 'CA' : ''].filter(Boolean).join(' and ');
        out(
          `migbench agent: ${status.image}, ready on ${status.ready}/${status.desired} nodes${status.sharedClaim ? `, shared volume: claim ${status.sharedClaim}` : ''}${registry ? `, registry ${registry} mounted` : ''}`,
        );
        for (const p of status.pods)
          out(`  ${p.node}: ${p.pod} ${p.ready ? 'ready' : 'not ready'}${p.image !== status.image ? ` (old image ${p.image})` : ''}`);
        const handlers = await runtimeHandlerStates(cluster).catch((err: unknown) => {
          out(`  runtime handler: not known (${(err as Error).message})`);
          return [];
        });
        for (const h of handlers)
          out(
            `  ${h.node}: runtime handler migbench ${h.installed ? `installed (${h.dropIn})` : `not installed${h.problems.length ? ` (install would refuse: ${h.problems.join('; ')})` : ''}`}`,
          );
        return status.ready === status.desired && status.desired > 0 ? 0 : EXIT_TRIAL_FAILED;
      }
    }
  } catch (err) {
    if (err instanceof CommandFailure) throw err;
    if (err instanceof RuntimeHandlerRefused) throw new CommandFailure(err.message, EXIT_USAGE);
    const status = (err as { code?: number }).code;
    if (status === 401 || status === 403)
      throw new CommandFailure(
        `migbench agent ${args.action}: not allowed (${describeApiError(err)}); installing the agent needs a cluster administrator's rights`,
        EXIT_USAGE,
      );
    throw err;
  }
}
