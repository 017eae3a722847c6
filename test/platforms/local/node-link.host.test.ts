// The emulated node network and the tmpfs store: with `nodeLink`, what a migration sends to the
// target crosses a veth shaped to the scenario's bandwidth, so moving N bytes takes at least
// N / bandwidth; with `checkpointStore: tmpfs` the images live on a tmpfs mounted for the run.
// Both are gone after close().
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { LocalPlatform } from '../../../src/platforms/local/local-platform.ts';
import { CriuStrategy } from '../../../src/strategies/criu/local.ts';
import { CriuPageserverStrategy } from '../../../src/strategies/criu-pageserver/local.ts';
import type { Strategy } from '../../../src/strategies/entry/strategy.ts';
import { migbenchObjects, NOTHING, recordingEvents } from '../../helpers/host.ts';
import { deployRedis, withRedis } from '../../helpers/redis-pod.ts';

const BANDWIDTH_MBIT = 100;
const base = mkdtempSync(`${tmpdir()}/migbench-link-`);
let platform: LocalPlatform;
const mounts = () =>
  readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('migbench-store '))
    .map((l) => l.split(' ')[1]);

beforeAll(async () => {
  const tools = inject('tools');
  platform = await LocalPlatform.create({
    nodes: ['node-a', 'node-b'],
    subnet: '198.18.0.0/24',
    checkpointDir: `${base}/store`,
    logDir: `${base}/logs`,
    tools: { runc: tools.runc, criu: tools.criu, iptables: tools.iptables, ip: tools.ip },
    checkpointStore: 'tmpfs',
    nodeLinkMbit: BANDWIDTH_MBIT,
  });
});
afterAll(async () => {
  await platform?.close();
  expect(mounts()).toEqual([]);
  expect(migbenchObjects()).toEqual(NOTHING);
});

it('mounts a tmpfs over the store for the run', () => {
  expect(mounts().sort()).toEqual([`${base}/store/checkpoints`, `${base}/store/nodes`]);
});

async function timedMove(strategy: Strategy, from: string, to: string) {
  const { workload, pod, service } = await deployRedis(platform, strategy.name, 60_000);
  const events = recordingEvents();
  const at: Record<string, number> = {};
  const timed = {
    emit: (source: string, event: string, detail?: string) => {
      at[event] ??= performance.now();
      events.emit(source, event, detail);
    },
  };
  const outcome = await strategy.migrate({
    platform,
    workload,
    pod,
    service,
    targetNode: 'node-b',
    events: timed,
    readyTimeoutMs: 30_000,
    signal: new AbortController().signal,
  });
  await withRedis(service.address.host, service.address.port, async (c) => expect(await c.dbsize()).toBe(60_000));
  await platform.removePod(outcome.pod);
  await platform.removeService(service);
  return { outcome, ms: at[to]! - at[from]!, events: events.events };
}

it('criu: the images cross the shaped link to the target node, no faster than its bandwidth', { timeout: 120_000 }, async () => {
  const { outcome, ms, events } = await timedMove(
    new CriuStrategy({ name: 'criu', ip: 'new', freezer: 'criu', targetPod: 'after-dump', pagePipes: 'sysctl' }),
    'transfer_start',
    'transfer_done',
  );
  expect(events.find((e) => e.event === 'transfer_start')?.detail).toContain(`${BANDWIDTH_MBIT} Mbit/s`);
  const floorMs = ((outcome.checkpointBytes! * 8) / (BANDWIDTH_MBIT * 1e6)) * 1000;
  expect(floorMs).toBeGreaterThan(300); // enough bytes that the shaping, not the copy, decides
  expect(ms).toBeGreaterThan(floorMs * 0.9);
});

it('criu-pageserver: the pages stream over the shaped link while the source is frozen', { timeout: 120_000 }, async () => {
  const { outcome, ms } = await timedMove(
    new CriuPageserverStrategy({ name: 'criu-pageserver', ip: 'new', freezer: 'criu', targetPod: 'after-dump', pagePipes: 'sysctl' }),
    'checkpoint_start',
    'checkpoint_done',
  );
  const pageBytes = outcome.criu!.pagesWritten! * 4096;
  expect(ms).toBeGreaterThan(((pageBytes * 8) / (BANDWIDTH_MBIT * 1e6)) * 1000 * 0.9);
});
