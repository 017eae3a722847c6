// What the workloads of a scenario need on the host beyond the platform's tools: the Python servers
// run the host's /usr/bin/python3 inside their pods (the pods' root is the host's programs), and the
// training job needs Debian's PyTorch for that interpreter. Installed with apt-get on first use, as
// the platform's tools are; checked without importing anything (finding torch is instant, importing
// it takes seconds).
import { existsSync } from 'node:fs';
import type { WorkloadConfig } from '../scenario/schema.ts';
import { exec } from '../system/exec.ts';
import { aptInstall, lookPath } from './apt.ts';
import { PrerequisiteError, type Check } from './prerequisites.ts';

const PYTHON = '/usr/bin/python3';

interface Need {
  label: string;
  aptPackage: string;
  present(): Promise<boolean>;
}

const python3: Need = { label: 'python3', aptPackage: 'python3', present: async () => existsSync(PYTHON) };
const torch: Need = {
  label: `PyTorch for ${PYTHON}`,
  aptPackage: 'python3-torch',
  present: async () =>
    existsSync(PYTHON) &&
    (await exec(PYTHON, ['-c', "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)"], { allowFailure: true, timeoutMs: 30_000 }))
      .exitCode === 0,
};

const WORKLOAD_NEEDS: { [T in WorkloadConfig['type']]: Need[] } = {
  redis: [], // redis-server is one of the platform's tools
  video: [python3],
  'ml-training': [python3, torch],
};

/** Installs what the given workload types need and is missing; returns the Debian package versions (for run.json). */
export async function ensureWorkloadPrerequisites(types: readonly WorkloadConfig['type'][], progress: (line: string) => void): Promise<Record<string, string>> {
  const needs = [...new Set(types.flatMap((t) => WORKLOAD_NEEDS[t]))];
  const missing: Need[] = [];
  for (const need of needs) if (!(await need.present())) missing.push(need);
  if (missing.length > 0) {
    const packages = missing.map((n) => n.aptPackage);
    if (!(await lookPath('apt-get'))) {
      throw new PrerequisiteError(
        `migbench: missing ${missing.map((n) => n.label).join(', ')} and there is no apt-get to install them. Install: ${packages.join(' ')}`,
        `install ${packages.join(' ')}`,
      );
    }
    progress(`migbench: installing ${packages.join(' ')} for the workloads (apt-get) ...`);
    await aptInstall(packages, { verbose: process.env.MIGBENCH_VERBOSE === '1' });
    const still: Need[] = [];
    for (const need of missing) if (!(await need.present())) still.push(need);
    if (still.length > 0) {
      const fix = `apt-get install -y ${still.map((n) => n.aptPackage).join(' ')}`;
      throw new PrerequisiteError(`migbench: ${still.map((n) => n.label).join(', ')} still missing after ${fix}`, fix);
    }
  }
  const versions: Record<string, string> = {};
  for (const need of needs) {
    const r = await exec('dpkg-query', ['-W', '-f', '${Version}', need.aptPackage], { allowFailure: true, timeoutMs: 10_000 }).catch(() => undefined);
    if (r?.exitCode === 0 && r.stdout.trim()) versions[need.aptPackage] = r.stdout.trim();
  }
  return versions;
}

/** For `migbench doctor`: one check per host package the workloads need, naming the workloads that need it. */
export async function checkWorkloadPrerequisites(): Promise<Check[]> {
  const users = new Map<Need, string[]>();
  for (const [type, needs] of Object.entries(WORKLOAD_NEEDS)) for (const need of needs) users.set(need, [...(users.get(need) ?? []), type]);
  const checks: Check[] = [];
  for (const [need, types] of users) {
    const ok = await need.present();
    checks.push({
      name: `${need.label} (${types.join(', ')})`,
      ok,
      found: ok ? 'installed' : 'missing (migbench run installs it when a scenario needs it)',
      ...(ok ? {} : { fix: `apt-get install -y ${need.aptPackage}` }),
    });
  }
  return checks;
}
