// The lab's nodes and agents through a private registry with token authentication, as Harbor,
// GitLab's, a cloud's or any docker_auth-fronted registry is: the registry (the lab's distribution
// binary, `auth.token`) answers a client without a token 401 with
// `WWW-Authenticate: Bearer realm=…,service=…,scope=…`; the client gets a JWT from the token server
// at the realm with its login and retries with it. The token server (registry-token-server.ts) is
// the test's, on the lab address beside the registry; it grants the pushing login pull, push and
// delete, the pods' login pull only. Every client here does the flow itself: crane (`images build
// --push`), the nodes' containerd (pulls with the imagePullSecret) and the node agent's Go code
// (agent/registry_auth.go: the checkpoint image's push and its removal). private-registry.host.test.ts
// is the same with htpasswd (Basic); this file shares its steps (private-registry-kit.ts).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect } from 'node:net';
import { trustRegistry } from '../../../src/lab/nodes/lab-registry.ts';
import { startPrivateRegistry, type PrivateRegistry } from '../../helpers/private-registry.ts';
import type { TokenRequest } from '../../helpers/registry-token-server.ts';
import { useRealNodeCluster } from '../../helpers/real-node-cluster.ts';
import { adminClients, type AdminClients } from './cluster-kit.ts';
import {
  createLoginSecret,
  escape,
  expectPrivateRegistryRemoved,
  installAgentWithLogin,
  pushRedis,
  removePrivateRegistry,
  runCheckpointThroughRegistry,
  runRefusedPull,
} from './private-registry-kit.ts';

const cluster = useRealNodeCluster('migbench-token-registry');
/** Beside private-registry.host.test.ts' 5443, so both can run on one lab; the token server on the next port. */
const PORT = 5444;
/** The agents' login (may push, pull and delete), the pods' (may pull), and the pods' with a wrong password. */
const PUSH_SECRET = 'token-registry-push';
const PULL_SECRET = 'token-registry-pull';
const WRONG_SECRET = 'token-registry-wrong-password';
const SECRETS = [PUSH_SECRET, PULL_SECRET, WRONG_SECRET];

let registry: PrivateRegistry | undefined;
let admin: AdminClients;
let redisImage = '';

const tokenRequests = () => registry!.tokens!.requests;
/** A grant with its actions sorted (clients ask `push,pull` or `pull,push`). */
const sorted = (grant: string) => {
  const colon = grant.lastIndexOf(':');
  return `${grant.slice(0, colon)}:${grant
    .slice(colon + 1)
    .split(',')
    .sort()
    .join(',')}`;
};
/** The token server's answers as lines `METHOD user status [granted…] (client)`, for the assertions' messages and the log. */
const describe = (requests: readonly TokenRequest[]) =>
  requests.map((r) => `${r.method} ${r.user || '-'} ${r.status} [${r.granted.map(sorted).join(' ')}] (${r.agent})`).join('\n');
/** The scopes granted to `user` among `requests` (sorted actions). */
const grantedTo = (requests: readonly TokenRequest[], user: string) =>
  new Set(requests.filter((r) => r.user === user && r.status === 200).flatMap((r) => r.granted.map(sorted)));

/** Everything the file made outside the lab's own state (idempotent). */
const removeWhatWasMade = () => removePrivateRegistry(cluster, registry, SECRETS);

beforeAll(async () => {
  const { state } = cluster;
  admin = adminClients(state.kubeconfig);
  const nodes = state.nodes.map((n) => n.name);
  registry = await startPrivateRegistry(state.binaries.registry, { name: 'test-token-registry', port: PORT, auth: 'token' });
  const tokens = registry.tokens!;
  // The nodes' containerd runs already: hosts.toml is read at each pull, no restart. The token
  // server's certificate is of the same CA, and containerd's token requests go through the
  // registry host's client (its `ca`).
  await trustRegistry(nodes, registry.host, registry.caPem);
  // An anonymous client is sent to the token server, with the scope it needs.
  const anonymous = await registry.get('/v2/_catalog', true);
  expect(anonymous.status).toBe(401);
  expect(anonymous.challenge).toMatch(new RegExp(`^Bearer realm="${escape(tokens.realm)}",service="[^"]+",scope="registry:catalog:\\*"$`));
  redisImage = await pushRedis(registry);
  process.stderr.write(`token server, images build --push:\n${describe(tokens.requests)}\n`);
  // crane got its token with the pushing login (GET with Basic, the spec's way) for Redis' repository.
  expect(grantedTo(tokens.requests, registry.user), describe(tokens.requests)).toContain('repository:migbench/redis:pull,push');
  expect(await registry.catalog()).toContain('migbench/redis');
  const pull = registry.pullLogin!;
  await createLoginSecret(cluster, PUSH_SECRET, registry, registry);
  await createLoginSecret(cluster, PULL_SECRET, registry, pull);
  await createLoginSecret(cluster, WRONG_SECRET, registry, { user: pull.user, password: `${pull.password}-wrong` });
  await installAgentWithLogin(cluster, PUSH_SECRET, registry);
}, 400_000);

afterAll(removeWhatWasMade, 60_000);

// First, while no node holds the image: with it present a pod pulling IfNotPresent asks no registry.
it('with a wrong password in the Secret the run fails before its first trial, naming the image: the token server refused the login', {
  timeout: 120_000,
}, async () => {
  const before = tokenRequests().length;
  await runRefusedPull(cluster, admin, registry!, redisImage, [WRONG_SECRET], 'wrong-password');
  const asked = tokenRequests().slice(before);
  process.stderr.write(`token server, the run with the wrong password:\n${describe(asked)}\n`);
  const user = registry!.pullLogin!.user;
  // The nodes' containerd asked the token server (the registry never sees a password) and was refused; no token was issued.
  expect(
    asked.some((r) => r.user === user && r.status === 401 && /containerd/.test(r.agent)),
    describe(asked),
  ).toBe(true);
  expect(
    asked.filter((r) => r.status === 200),
    describe(asked),
  ).toEqual([]);
});

it('with the Secrets: Redis moves by kubelet-checkpoint through the token-authenticated registry, each client with its own token', {
  timeout: 240_000,
}, async () => {
  const reg = registry!;
  const before = tokenRequests().length;
  const repository = await runCheckpointThroughRegistry(cluster, admin, reg, redisImage, PULL_SECRET, 'with-tokens');
  const asked = tokenRequests().slice(before);
  process.stderr.write(`token server, the run with the Secrets:\n${describe(asked)}\n`);
  // The nodes' containerd (the kubelets' pulls, with the pods' login): pull of Redis on both nodes,
  // pull of the checkpoint image on the target, and nothing more for that login.
  const pulling = reg.pullLogin!.user;
  expect(
    asked.filter((r) => r.user === pulling).every((r) => /containerd/.test(r.agent) && r.status === 200),
    describe(asked),
  ).toBe(true);
  expect([...grantedTo(asked, pulling)].sort(), describe(asked)).toEqual([`repository:${repository}:pull`, 'repository:migbench/redis:pull'].sort());
  // The source's agent (agent/registry_auth.go: GET with Basic, the Go client): push of the
  // checkpoint image, and its removal after the trial (delete).
  const agentAsked = asked.filter((r) => r.user === reg.user && /^Go-http-client\//.test(r.agent));
  expect(
    agentAsked.every((r) => r.method === 'GET' && r.status === 200),
    describe(asked),
  ).toBe(true);
  const agentGranted = grantedTo(agentAsked, reg.user);
  expect(agentGranted, describe(asked)).toContain(`repository:${repository}:pull,push`);
  expect(agentGranted, describe(asked)).toContain(`repository:${repository}:delete`);
  // No refusal: every client had the login its Secret gave it.
  expect(
    asked.filter((r) => r.status !== 200),
    describe(asked),
  ).toEqual([]);
});

it('removes what it made: the registry and token server, their files and storage, the nodes’ hosts.toml, the Secrets', { timeout: 60_000 }, async () => {
  const reg = registry!;
  const pid = reg.pid();
  expect(pid).toBeDefined();
  const tokenServer = new URL(reg.tokens!.realm);
  await removeWhatWasMade();
  await expectPrivateRegistryRemoved(cluster, admin, reg, pid!, SECRETS);
  const listening = await new Promise<boolean>((resolve) => {
    const socket = connect(Number(tokenServer.port), tokenServer.hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
  expect(listening, 'the token server no longer listens').toBe(false);
});
