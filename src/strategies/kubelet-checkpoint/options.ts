// `kubelet-checkpoint`'s options.
import { z } from 'zod';

/** How the kubelet's checkpoint call reaches each source node's kubelet (kubelet-checkpoint and runtime-restore). */
export const kubeletAccessOption = z
  .enum(['auto', 'direct', 'apiServer'])
  .describe(
    "How the checkpoint call reaches each source node's kubelet: `direct` (https://<node>:10250, RBAC create nodes/checkpoint), `apiServer` (the API server's node proxy, RBAC create nodes/proxy: for kubelets migbench cannot reach), or `auto`: direct where the kubelet's port accepts a connection within 2 s, decided once per node. The route a trial took is in its checkpoint_request event. Default: auto.",
  )
  .optional();

/** The label part of a forced kubelet route (none for the default, auto). */
export const kubeletAccessLabel = (access: z.output<typeof kubeletAccessOption>): string => (access && access !== 'auto' ? `+kubelet-${access}` : '');

/** How the kubelet's archive gets to the target node; kubelet-checkpoint's and runtime-restore's option (the agents' part: agent-checkpoints.ts transfer). */
export const archiveTransferOption = z
  .enum(['stream', 'shared-volume'])
  .describe(
    "How the checkpoint archive gets from the source node to the target: stream (the default) — the source's node agent sends it to the target's over the pod network; " +
      "shared-volume — the source's agent writes it once to a ReadWriteMany volume every agent mounts (an NFS share: `migbench agent install --shared-class CLASS` or `--shared-claim CLAIM`) " +
      "and the target's reads it from there; sha256-checked either way, the files removed after the trial. Checked before the first trial: the agent must mount such a volume (exit 2 otherwise). " +
      "A strategy option, so one run can interleave both ways (trials.csv's strategy gets `+shared-volume`).",
  )
  .optional();

export const kubeletCheckpointOptions = z
  .object({
    name: z.literal('kubelet-checkpoint'),
    checkpointTimeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .describe("The kubelet's checkpoint call may take this long (it dumps the container and writes the archive).")
      .default(120),
    delivery: z
      .enum(['import', 'registry'])
      .describe(
        "How the checkpoint image reaches the target node. import (the default): the source's node agent streams the archive to the target's, which builds the image and imports it into its containerd. registry: the source's agent builds the image and pushes it to `registry`, and the target's kubelet pulls it by digest (the path Kubernetes documents); the image is deleted from the registry after the trial and by `migbench cleanup`.",
      )
      .optional(),
    registry: z
      .string()
      .regex(
        /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/,
        'a registry as HOST[:PORT][/PATH], e.g. registry.example.org:5000/team',
      )
      .describe(
        "With delivery: registry, where the checkpoint images go, as HOST[:PORT][/PATH]: one you own (a checkpoint holds the process's whole memory — keys, passwords, data); there is no default. The node agents push to it over HTTPS (trusting the system's CAs and `migbench agent install --registry-ca FILE`), with the logins of `migbench agent install --registry-secret NAME` where it wants one, and the target node's runtime pulls from it with the scenario's `kubernetes.imagePullSecrets` (name the same Secret) (e.g. the lab's 198.19.240.1:5000, plain HTTP: registryPlainHttp).",
      )
      .optional(),
    transfer: archiveTransferOption,
    registryPlainHttp: z.boolean().describe("With delivery: registry, the agent pushes over plain HTTP (a registry without TLS, as the lab's).").optional(),
    kubeletAccess: kubeletAccessOption,
  })
  .strict()
  .describe(
    "`kubelet-checkpoint` (kubernetes platform): Kubernetes' own checkpoint/restore (KEP-2008) — the kubelet's checkpoint API on the source node, " +
      "the archive to the target node's agent, a checkpoint image imported into its containerd (or pushed to a registry and pulled: `delivery: registry`), a pod created from it there.",
  );

export type KubeletCheckpointStrategyOptions = z.output<typeof kubeletCheckpointOptions>;
