// The per-trial line is what a user watches during a long run (and what CI logs keep), so it must
// say which trial, how it went, and the two figures that matter, or why it failed.
import { describe, expect, it } from 'vitest';
import { attachProgress, trialLine } from '../../src/ui/progress.ts';
import { Runner } from '../../src/runner/run.ts';
import { parseScenario } from '../../src/scenario/load.ts';
import { planTrials } from '../../src/plan/plan.ts';
import { sampleTrial } from '../results/fixtures.ts';

describe('trialLine', () => {
  it('shows position, identity, downtime and migration time for an ok trial', () => {
    expect(trialLine(sampleTrial(), { downtime_ms: 45.04, migration_ms: 123.44 }, 2, 12)).toBe(
      '[ 3/12] redis      criu      rep  2  ok  downtime 45.0 ms  migration 123.4 ms',
    );
  });

  it('marks warm-ups and shows — for figures not measured', () => {
    expect(trialLine(sampleTrial({ warmup: true, strategy: 'redeploy', repetition: 1 }), {}, 0, 5)).toBe(
      '[1/5] redis      redeploy  warm-up  1  ok  downtime —  migration —',
    );
  });

  it('shows the phase and the error of a failed trial instead of figures', () => {
    const line = trialLine(sampleTrial({ status: 'failed', error: 'criu dump: exit 1', failedPhase: 'migrate', repetition: 12 }), { downtime_ms: 3 }, 11, 12);
    expect(line).toBe('[12/12] redis      criu      rep 12  FAILED in migrate: criu dump: exit 1');
    expect(line).not.toContain('downtime');
  });
});

describe('attachProgress', () => {
  const { scenario } = parseScenario('t.yaml', 'workloads: [{ type: redis }]\nstrategies: [criu]\nrepetitions: 2\n');
  const [first, second] = planTrials(scenario);

  const fakeStream = (isTTY: boolean) => {
    const chunks: string[] = [];
    return { chunks, stream: { isTTY, write: (s: string) => chunks.push(s) > 0 } as unknown as NodeJS.WriteStream };
  };

  const drive = (runner: Runner) => {
    runner.emit('trial-start', first!, 0, 2);
    runner.emit('trial-phase', first!, 'settle');
    runner.emit('trial-end', sampleTrial({ repetition: 1 }), { downtime_ms: 10, migration_ms: 20 }, 0, 2);
    runner.emit('trial-start', second!, 1, 2);
    runner.emit('trial-end', sampleTrial({ repetition: 2, status: 'failed', error: 'x', failedPhase: 'deploy' }), {}, 1, 2);
  };

  it('writes only the per-trial lines when not on a terminal (CI logs stay readable)', () => {
    const { chunks, stream } = fakeStream(false);
    const runner = new Runner();
    attachProgress(runner, { quiet: false, stream });
    drive(runner);
    expect(chunks).toEqual([
      '[1/2] redis      criu      rep  1  ok  downtime 10.0 ms  migration 20.0 ms\n',
      '[2/2] redis      criu      rep  2  FAILED in deploy: x\n',
    ]);
  });

  it('redraws a bar in place on a terminal, and clears it before each trial line', () => {
    const { chunks, stream } = fakeStream(true);
    const runner = new Runner();
    attachProgress(runner, { quiet: false, stream });
    drive(runner);
    const out = chunks.join('');
    expect(out).toContain('\r\x1b[2K[........................] 0/2 redis × criu #1');
    expect(out).toContain('redis × criu #1: settle');
    expect(out).toContain('\r\x1b[2K[1/2] redis      criu      rep  1  ok');
    expect(out).toContain('[############............] 1/2');
    // The last line is the last trial's, not a bar left behind.
    expect(out.endsWith('FAILED in deploy: x\n')).toBe(true);
  });

  it('writes nothing when quiet', () => {
    const { chunks, stream } = fakeStream(true);
    const runner = new Runner();
    attachProgress(runner, { quiet: true, stream });
    drive(runner);
    expect(chunks).toEqual([]);
  });
});
