// `migbench images build [--workload …] [--push REGISTRY | --load lab] [--rebuild]`: the workloads'
// OCI images (src/images/build.ts), built without Docker and cached; with --push or --load, pushed
// and printed as the pinned references a scenario's `kubernetes.images` takes.
import { formatBytes, buildImages } from '../images/build.ts';
import { pushImage } from '../images/push.ts';
import { IMAGE_WORKLOADS, type ImageWorkload } from '../images/recipes.ts';
import { ensureCrane } from '../lab/build/node-build.ts';
import { LAB_REGISTRY } from '../lab/nodes/lab-registry.ts';
import { readNodeClusterState } from '../lab/nodes/node-cluster.ts';
import { CommandFailure, EXIT_USAGE } from './exit-codes.ts';
import { requireRoot } from './root.ts';

export interface ImagesArgs {
  workloads: string[];
  push?: string;
  load?: string;
  insecure: boolean;
  rebuild: boolean;
  commandLine: string;
}

export async function imagesCommand(args: ImagesArgs): Promise<number> {
  const unknown = args.workloads.filter((w) => !(IMAGE_WORKLOADS as string[]).includes(w));
  if (unknown.length > 0)
    throw new CommandFailure(`migbench images: --workload ${unknown.join(', ')} is not a workload. Fix: name one of ${IMAGE_WORKLOADS.join(', ')}`, EXIT_USAGE);
  if (args.push !== undefined && args.load !== undefined)
    throw new CommandFailure('migbench images: --push and --load both given. Fix: name one destination', EXIT_USAGE);
  if (args.load !== undefined && args.load !== 'lab')
    throw new CommandFailure(
      `migbench images: --load ${args.load} is unknown. Fix: --load lab (the registry of \`migbench cluster start\`), or --push REGISTRY`,
      EXIT_USAGE,
    );
  if (args.push !== undefined && !/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._/-]+)?$/i.test(args.push)) {
    throw new CommandFailure(
      `migbench images: --push ${args.push} is not a registry. Fix: --push HOST[:PORT][/PATH], e.g. registry.example.org/team`,
      EXIT_USAGE,
    );
  }
  requireRoot(args.commandLine);
  let registry = args.push;
  if (args.load === 'lab') {
    const state = await readNodeClusterState();
    if (!state) throw new CommandFailure('migbench images: --load lab needs the lab running. Fix: sh bin/migbench cluster start', EXIT_USAGE);
    registry = state.registry ?? LAB_REGISTRY;
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const workloads = (args.workloads.length > 0 ? args.workloads : IMAGE_WORKLOADS) as ImageWorkload[];
  const started = performance.now();
  const images = await buildImages(workloads, { progress, rebuild: args.rebuild, verbose: process.env.MIGBENCH_VERBOSE === '1' });
  for (const i of images) {
    out(
      `migbench images: ${i.repository}:${i.tag} ${i.manifestDigest}: ${formatBytes(i.compressedBytes)} compressed, ${formatBytes(i.unpackedBytes)} unpacked; ${i.source === 'built' ? 'built' : 'cached, built'} in ${i.buildSeconds} s (${i.layout})`,
    );
  }
  if (registry !== undefined) {
    const crane = (await ensureCrane(progress)).path;
    const pushed = [];
    for (const image of images) pushed.push(await pushImage(crane, image, registry, { insecure: args.load === 'lab' || args.insecure }));
    out('# pinned by digest, for the scenario:');
    out('kubernetes:');
    out('  images:');
    for (const p of pushed) out(`    ${p.workload}: ${p.reference}   # pushed in ${p.pushSeconds} s`);
  }
  out(`migbench images: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}
