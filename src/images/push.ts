// Pushing a built image (build.ts' OCI layout) to a registry with crane, under its inputs tag, and
// reading back the digest the registry stores it by: the reference a scenario pins
// (<registry>/<repository>@sha256:…). crane is built on first use (lab/build/node-build.ts'
// ensureCrane) and handed in, so this module needs no lab.
import { exec } from '../system/exec.ts';
import type { BuiltImage } from './build.ts';

export interface PushedImage {
  workload: BuiltImage['workload'];
  /** <registry>/<repository>@sha256:… */
  reference: string;
  pushSeconds: number;
}

/**
 * `insecure`: plain HTTP (the lab's registry on its own network); never chosen for a registry the
 * user names unless they say so.
 */
export async function pushImage(crane: string, image: BuiltImage, registry: string, options: { insecure?: boolean } = {}): Promise<PushedImage> {
  const started = performance.now();
  const target = `${registry.replace(/\/+$/, '')}/${image.repository}`;
  const flags = options.insecure ? ['--insecure'] : [];
  const out = await exec(crane, ['push', ...flags, image.layout, `${target}:${image.tag}`], { timeoutMs: 30 * 60_000 });
  // crane prints the pushed reference by digest (<repo>@sha256:…) on its last line.
  const pushed = out.stdout.trim().split('\n').at(-1) ?? '';
  const digest = /@(sha256:[0-9a-f]{64})$/.exec(pushed)?.[1];
  if (!digest) throw new Error(`crane push ${target}: no digest in its output: ${out.stdout.trim()}`);
  if (digest !== image.manifestDigest) throw new Error(`crane push ${target}: the registry stored ${digest}, the layout holds ${image.manifestDigest}`);
  return { workload: image.workload, reference: `${target}@${digest}`, pushSeconds: Math.round((performance.now() - started) / 100) / 10 };
}
