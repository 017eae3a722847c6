// What this host's CRIU can do, asked of CRIU itself (`criu check --feature`): dirty-memory tracking
// for pre-copy, userfaultfd for lazy (post-copy) restore. Both platforms' checks and `migbench doctor`
// read it from here.
import { exec } from '../system/exec.ts';

export interface CriuFeatures {
  /** Soft-dirty memory tracking: needed for pre-copy (iterative) checkpoints. */
  dirtyTracking: boolean;
  /** userfaultfd for foreign processes: needed for lazy-pages (post-copy) restore. */
  lazyPages: boolean;
}

export async function criuFeatures(path: string): Promise<CriuFeatures> {
  const [dirtyTracking, lazyPages] = await Promise.all([criuHasFeature(path, 'mem_dirty_track'), criuHasFeature(path, 'uffd-noncoop')]);
  return { dirtyTracking, lazyPages };
}

async function criuHasFeature(path: string, feature: string): Promise<boolean> {
  return (await criuFeatureCheck(path, feature)).ok;
}

/** `criu check --feature <feature>`: whether CRIU can use it here, and what CRIU said (its reason when not). */
export async function criuFeatureCheck(path: string, feature: string): Promise<{ ok: boolean; said: string }> {
  try {
    const result = await exec(path, ['check', '--feature', feature], { allowFailure: true, timeoutMs: 30_000 });
    // CRIU prefixes its messages with their source ("Warn  (criu/cr-check.c:824): "); the reason is what follows.
    const said = `${result.stdout} ${result.stderr}`
      .replace(/\s+/g, ' ')
      .replace(/^.*?\)\s*:\s*/, '')
      .trim();
    return { ok: result.exitCode === 0, said: said || `exit ${result.exitCode}` };
  } catch (err) {
    return { ok: false, said: err instanceof Error ? err.message : String(err) };
  }
}
