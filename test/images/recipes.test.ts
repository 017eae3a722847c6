// The Dockerfiles in workloads/ (the recipe for people with Docker) make the same app as `migbench
// images build` (src/images/recipes.ts): the same Debian packages, files at /app, ENTRYPOINT, CMD,
// ENV, WORKDIR, ports and volumes. Pure: reads the files.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IMAGE_RECIPES } from '../../src/images/recipes.ts';

const dockerfile = (workload: string) => readFileSync(join(import.meta.dirname, '../../workloads', workload, 'Dockerfile'), 'utf8');
const instruction = (text: string, name: string) => [...text.matchAll(new RegExp(`^${name} (.+)$`, 'gm'))].map((m) => m[1] as string);
const json = (text: string, name: string) => instruction(text, name).map((v) => JSON.parse(v) as string[]);

describe.each(IMAGE_RECIPES.map((r) => [r.workload, r] as const))('%s', (workload, recipe) => {
  const text = dockerfile(workload);
  it('starts from Debian 12 and installs the same packages', () => {
    expect(instruction(text, 'FROM')).toEqual(['debian:bookworm-slim']);
    const installed = /apt-get install -y --no-install-recommends ([^&]+)&&/.exec(text)?.[1]?.trim().split(/\s+/);
    expect(installed).toEqual(recipe.debianPackages);
  });
  it('copies the same app files to /app', () => {
    expect(instruction(text, 'COPY')).toEqual(recipe.appFiles.map((f) => `${f} /app/${f}`));
  });
  it('starts the app the same way', () => {
    expect(json(text, 'ENTRYPOINT')).toEqual([recipe.entrypoint]);
    expect(json(text, 'CMD')).toEqual(recipe.cmd.length ? [recipe.cmd] : []);
    expect(instruction(text, 'WORKDIR')).toEqual([recipe.workingDir]);
    expect(instruction(text, 'ENV').flatMap((e) => e.split(' '))).toEqual(recipe.env);
    expect(instruction(text, 'EXPOSE')).toEqual(recipe.exposedPorts.map((p) => p.replace('/tcp', '')));
    expect(json(text, 'VOLUME')).toEqual(recipe.volumes.length ? [recipe.volumes] : []);
  });
});
