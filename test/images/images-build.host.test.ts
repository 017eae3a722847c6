// `migbench images build` makes the redis image from Debian's packages without Docker, and the image
// is the real app: unpacked with umoci and run with runc (no host /usr), its entrypoint starts
// redis-server, which answers redis-cli inside the container. A second build with the same inputs is
// the cached image (same digest, seconds); the config records the Debian packages it holds.
import { afterAll, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImages, LAYOUT_TAG } from '../../src/images/build.ts';
import { exec } from '../../src/system/exec.ts';

const CONTAINER = 'migbench-image-test-redis';
const scratch = mkdtempSync(join(tmpdir(), 'migbench-images-'));
const progress = (line: string) => process.stderr.write(`${line}\n`);

afterAll(async () => {
  await exec('runc', ['delete', '--force', CONTAINER], { allowFailure: true });
  rmSync(scratch, { recursive: true, force: true });
});

it('builds the redis image (cold: minutes; then cached) whose entrypoint runs redis-server from the image', { timeout: 900_000 }, async () => {
  const [first] = await buildImages(['redis'], { progress });
  const [again] = await buildImages(['redis'], { progress });
  expect(again?.source).toBe('cache');
  expect(again?.manifestDigest).toBe(first?.manifestDigest);
  const image = first!;
  expect(image.packages['redis-server']).toMatch(/^5:7\.0\./);
  expect(image.packages['redis-tools']).toBeDefined();

  const bundle = join(scratch, 'bundle');
  await exec('umoci', ['unpack', '--image', `${image.layout}:${LAYOUT_TAG}`, bundle], { timeoutMs: 300_000 });
  const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as {
    process: { args: string[]; cwd: string; terminal?: boolean };
    annotations?: Record<string, string>;
  };
  expect(spec.process.args).toEqual(['redis-server']);
  expect(spec.process.cwd).toBe('/data');
  expect(spec.annotations?.['io.migbench.debian.package.redis-server']).toBe(image.packages['redis-server']);
  // The app is the image's own: redis-server and redis-cli are in its root file system.
  expect(readFileSync(join(bundle, 'rootfs', 'usr', 'bin', 'redis-server')).length).toBeGreaterThan(0);

  // Detached, without a console; its stdio a file, not this process's pipes (which it would hold open).
  writeFileSync(join(bundle, 'config.json'), JSON.stringify({ ...spec, process: { ...spec.process, terminal: false } }));
  const log = join(scratch, 'redis.log');
  await exec('sh', ['-c', 'exec runc run --detach --bundle "$1" "$2" </dev/null >"$3" 2>&1', 'sh', bundle, CONTAINER, log], { timeoutMs: 60_000 });
  let pong = '';
  for (let i = 0; i < 50 && pong !== 'PONG'; i++) {
    pong = (await exec('runc', ['exec', CONTAINER, 'redis-cli', 'ping'], { allowFailure: true, timeoutMs: 10_000 })).stdout.trim();
    if (pong !== 'PONG') await new Promise((r) => setTimeout(r, 100));
  }
  expect(pong).toBe('PONG');
  const info = (await exec('runc', ['exec', CONTAINER, 'redis-cli', 'info', 'server'], { timeoutMs: 10_000 })).stdout;
  expect(info).toMatch(/redis_version:7\.0\./);
});
