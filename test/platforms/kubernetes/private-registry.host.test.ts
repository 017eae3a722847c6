// The lab's nodes pulling from a private registry as users' clusters do: HTTPS with a certificate of
// the cluster owner's own CA (each node's containerd told of it in a hosts.toml, lab-registry.ts
// trustRegistry) and a login (htpasswd), given to the pods as a kubernetes.io/dockerconfigjson
// Secret made with `kubectl create secret docker-registry` and named in kubernetes.imagePullSecrets,
// and to the node agents with `migbench agent install --registry-secret --registry-ca`. Redis, from
// its image pushed there (`images build --push`, crane with the login and the CA as a user's docker
// config and trust store), moves by kubelet-checkpoint with `delivery: registry`: the source's agent
// pushes the checkpoint image there and the target's kubelet pulls it with the Secret. Without the
// Secret the run stops before its first trial, naming the image the nodes may not pull.
// token-registry.host.test.ts does the same through a registry with token authentication (Bearer).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { trustRegistry } from '../../../src/lab/nodes/lab-registry.ts';
import { startPrivateRegistry, type PrivateRegistry } from '../../helpers/private-registry.ts';
import { useRealNodeCluster } from '../../helpers/real-node-cluster.ts';
import { adminClients, type AdminClients } from './cluster-kit.ts';
import {
  createLoginSecret,
  expectPrivateRegistryRemoved,
  installAgentWithLogin,
  pushRedis,
  removePrivateRegistry,
  runCheckpointThroughRegistry,
  runRefusedPull,
} from './private-registry-kit.ts';

const cluster = useRealNodeCluster('migbench-private-registry');
const SECRET = 'private-registry-login';

let registry: PrivateRegistry | undefined;
let admin: AdminClients;
let redisImage = '';

/** Everything the file made outside the lab's own state (idempotent). */
const removeWhatWasMade = () => removePrivateRegistry(cluster, registry, [SECRET]);

beforeAll(async () => {
  const { state } = cluster;
  admin = adminClients(state.kubeconfig);
  const nodes = state.nodes.map((n) => n.name);
  registry = await startPrivateRegistry(state.binaries.registry);
  // The nodes' containerd runs already: hosts.toml is read at each pull, no restart.
  await trustRegistry(nodes, registry.host, registry.caPem);
  redisImage = await pushRedis(registry);
  // The registry wants its login: anonymous reads are refused.
  expect((await registry.get('/v2/_catalog', true)).status).toBe(401);
  expect(await registry.catalog()).toContain('migbench/redis');
  await createLoginSecret(cluster, SECRET, registry, registry);
  await installAgentWithLogin(cluster, SECRET, registry);
}, 400_000);

afterAll(removeWhatWasMade, 60_000);

// First, while no node holds the image: with it present a pod pulling IfNotPresent asks no registry.
it('without the Secret the run fails before its first trial, naming the image the nodes may not pull (the CA trusted, the login missing)', {
  timeout: 120_000,
}, async () => {
  await runRefusedPull(cluster, admin, registry!, redisImage, [], 'no-secret');
});

it('with the Secret: Redis pulled from the private registry moves by kubelet-checkpoint through it, no acknowledged write lost', {
  timeout: 240_000,
}, async () => {
  await runCheckpointThroughRegistry(cluster, admin, registry!, redisImage, SECRET, 'with-secret');
});

it('removes what it made: the registry process, its files and storage, the nodes’ hosts.toml, the Secret', { timeout: 60_000 }, async () => {
  const pid = registry!.pid();
  expect(pid).toBeDefined();
  await removeWhatWasMade();
  await expectPrivateRegistryRemoved(cluster, admin, registry!, pid!, [SECRET]);
});
