// `migbench compare --rerun BASELINE_COMMIT`: the baseline's code and the current code measured in
// one sitting, interleaved, so whatever drifts on the host (another workload, thermal state, a
// kernel's caches) hits both arms alike — benchstat's advice ("run the old and new code alternately")
// made one command. The baseline's code is checked out as a git worktree of that commit in a temporary
// directory; its npm dependencies are this checkout's node_modules when the two lockfiles are equal
// (nothing is installed; with different lockfiles the command stops and says how to proceed). The
// repetitions are split into rounds, each round one `migbench run` per arm, in ABBA order (round 1:
// baseline, current; round 2: current, baseline; ...), so neither arm always goes first. Each arm's
// rounds are then merged into one results directory, which `compare` judges like any other pair.
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

type Arm = 'baseline' | 'current';

export interface RerunRound {
  round: number;
  /** The order the two arms run in this round. */
  order: [Arm, Arm];
  reps: number;
}

/** `reps` split over `rounds` (the first rounds take the remainder), ABBA order. */
export function planRounds(reps: number, rounds: number): RerunRound[] {
  const n = Math.min(rounds, reps);
  return Array.from({ length: n }, (_, i) => ({
    round: i + 1,
    order: i % 2 === 0 ? ['baseline', 'current'] : ['current', 'baseline'],
    reps: Math.floor(reps / n) + (i < reps % n ? 1 : 0),
  }));
}

/**
 * Concatenates the rounds' trials.csv into `into` (rows renumbered in execution order across rounds,
 * run_id set to the arm's), and writes the first round's run.json with that run id. Every round of an
 * arm ran the same code, so their headers are equal; a difference is an error.
 */
export function mergeRounds(roundDirs: string[], into: string, runId: string): void {
  mkdirSync(into, { recursive: true });
  let header: string | undefined;
  let trial = 0;
  const lines: string[] = [];
  for (const dir of roundDirs) {
    const [head, ...rows] = readFileSync(join(dir, 'trials.csv'), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    if (header !== undefined && head !== header)
      throw new Error(`${dir}/trials.csv: header differs from the first round's; the rounds of one arm must come from the same code`);
    header = head;
    if (!head!.startsWith('run_id,trial,')) throw new Error(`${dir}/trials.csv: not a migbench trials.csv (its header starts with run_id,trial,)`);
    for (const row of rows) {
      // run_id and trial are the first two cells and never quoted (run ids have no commas); the rest stays as written.
      const afterTrial = row.indexOf(',', row.indexOf(',') + 1);
      lines.push(`${runId},${++trial}${row.slice(afterTrial)}`);
    }
  }
  writeFileSync(join(into, 'trials.csv'), `${[header ?? '', ...lines].join('\n')}\n`);
  if (existsSync(join(roundDirs[0]!, 'run.json'))) {
    const info = JSON.parse(readFileSync(join(roundDirs[0]!, 'run.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(into, 'run.json'), `${JSON.stringify({ ...info, runId, rerunRounds: roundDirs }, null, 2)}\n`);
  }
  if (existsSync(join(roundDirs[0]!, 'events.csv'))) copyFileSync(join(roundDirs[0]!, 'events.csv'), join(into, 'events.csv.round1'));
}

export class RerunProblem extends Error {}

export interface RerunOptions {
  /** The current code's checkout (this repository's root). */
  repo: string;
  commit: string;
  scenario: string;
  reps: number;
  rounds: number;
  out: string;
  log: (line: string) => void;
}

const git = (repo: string, args: string[]) => spawnSync('git', ['-C', repo, ...args], { encoding: 'utf8' });

/** Runs both arms interleaved; returns the two merged results directories. */
export function runInterleaved(options: RerunOptions): { baseline: string; current: string } {
  const { repo, commit, log } = options;
  const resolved = git(repo, ['rev-parse', '--verify', '--quiet', `${commit}^{commit}`]);
  if (resolved.status !== 0) throw new RerunProblem(`--rerun ${commit}: not a commit of ${repo}; give a commit hash, tag or branch (git log shows them)`);
  const sha = resolved.stdout.trim();
  const baseLock = git(repo, ['show', `${sha}:package-lock.json`]);
  const ownLock = readFileSync(join(repo, 'package-lock.json'), 'utf8');
  if (baseLock.status !== 0 || baseLock.stdout !== ownLock) {
    throw new RerunProblem(
      `--rerun ${commit}: its package-lock.json differs from this checkout's, so its code cannot share this node_modules; check it out yourself (git worktree add DIR ${commit}; npm ci there) and compare two runs, interleaving them by hand (docs/nightly.md)`,
    );
  }
  const tree = mkdtempSync(join(tmpdir(), 'migbench-rerun-'));
  rmSync(tree, { recursive: true, force: true }); // git worktree add wants to create it
  const added = git(repo, ['worktree', 'add', '--detach', tree, sha]);
  if (added.status !== 0) throw new RerunProblem(`--rerun ${commit}: git worktree add failed: ${added.stderr.trim()}`);
  try {
    symlinkSync(realpathSync(join(repo, 'node_modules')), join(tree, 'node_modules'));
    const node = join(repo, 'node_modules', '.bin', 'node');
    const code: Record<Arm, string> = { baseline: tree, current: repo };
    const dirs: Record<Arm, string[]> = { baseline: [], current: [] };
    const plan = planRounds(options.reps, options.rounds);
    mkdirSync(options.out, { recursive: true });
    const progress = join(options.out, 'rerun.log');
    for (const round of plan) {
      for (const arm of round.order) {
        const out = join(options.out, 'rounds', `${round.round}-${arm}`);
        if (existsSync(out)) rmSync(out, { recursive: true, force: true });
        log(
          `migbench compare --rerun: round ${round.round}/${plan.length}, ${arm} (${arm === 'baseline' ? sha.slice(0, 12) : 'this checkout'}), ${round.reps} repetition(s) → ${out}`,
        );
        // Node from this checkout's node_modules directly: the baseline's bin/migbench would run npm ci.
        const ran = spawnSync(
          node,
          [join(code[arm], 'src', 'cli.ts'), 'run', resolve(options.scenario), '--reps', String(round.reps), '--out', out, '--quiet'],
          { stdio: ['ignore', 'inherit', 'inherit'] },
        );
        appendFileSync(progress, `${new Date().toISOString()} round ${round.round} ${arm} exit ${ran.status}\n`);
        if (ran.status !== 0 && ran.status !== 1)
          throw new Error(`round ${round.round}, ${arm}: migbench run exited ${ran.status ?? ran.signal}; its output is in ${out}`);
        dirs[arm].push(out);
      }
    }
    const merged = { baseline: join(options.out, 'baseline'), current: join(options.out, 'current') };
    mergeRounds(dirs.baseline, merged.baseline, `rerun-baseline-${sha.slice(0, 12)}`);
    mergeRounds(dirs.current, merged.current, 'rerun-current');
    return merged;
  } finally {
    git(repo, ['worktree', 'remove', '--force', tree]);
    rmSync(tree, { recursive: true, force: true });
  }
}
