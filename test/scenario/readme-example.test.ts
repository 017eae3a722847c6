// The annotated scenario in the README's "Scenario files" section is what users copy: it must load,
// with every field it shows accepted as written.
import { expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseScenario } from '../../src/scenario/load.ts';

const readme = readFileSync(resolve(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

it("loads the README's annotated scenario", () => {
  const section = readme.slice(readme.indexOf('## Scenario files'));
  const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  expect(example).toBeDefined();
  const { scenario } = parseScenario('README.md', example!, {});
  expect(scenario.strategies.map((s) => s.name)).toContain('criu-lazy');
  expect(scenario.local.nodeLink).toEqual({ bandwidthMbit: 1000 });
});
