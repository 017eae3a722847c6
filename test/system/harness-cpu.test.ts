// The harness's own CPU: a busy stretch of this process shows up as user time, a share of one core
// near 100 %, and an idle one near 0 %.
import { expect, it } from 'vitest';
import { startHarnessCpu } from '../../src/system/harness-cpu.ts';

it('counts the CPU this process spends, and not the time it waits', async () => {
  const busy = startHarnessCpu();
  const until = performance.now() + 200;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  const spent = busy();
  expect(x).toBeGreaterThan(0);
  expect(spent.wallMs).toBeGreaterThanOrEqual(200);
  expect(spent.userMs + spent.systemMs).toBeGreaterThan(100);
  expect(spent.percentOfCore).toBeGreaterThan(50);

  const idle = startHarnessCpu();
  await new Promise((r) => setTimeout(r, 300));
  const waited = idle();
  expect(waited.wallMs).toBeGreaterThanOrEqual(290);
  expect(waited.percentOfCore).toBeLessThan(20);
});
