// docs/results.md and docs/scenarios.md hold reference text generated from the code (the CSV
// writers' column docs, the scenario schema's descriptions): a column or field changed without
// `npm run docs` leaves the committed pages stale, and this fails, naming the script.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED_BEGIN, GENERATED_END, generatedReferences, withGenerated } from '../../src/docs/reference-docs.ts';
import { trialsColumns } from '../../src/results/trials-csv.ts';
import { samplesColumns } from '../../src/results/samples-csv.ts';
import { eventsColumns } from '../../src/results/events-csv.ts';
import { framesColumns } from '../../src/results/frames-csv.ts';
import { progressColumns } from '../../src/results/progress-csv.ts';
import { scenarioSchema } from '../../src/scenario/schema.ts';

const root = resolve(import.meta.dirname, '..', '..');

describe.each(Object.entries(generatedReferences()))('%s', (path, generated) => {
  it('is what `npm run docs` generates from the code now', () => {
    const committed = readFileSync(resolve(root, path), 'utf8');
    expect(committed, `${path} is stale: run \`npm run docs\` and commit the result`).toBe(withGenerated(committed, generated, path));
  });
});

describe('the generated references', () => {
  const { 'docs/results.md': results, 'docs/scenarios.md': scenarios } = generatedReferences();

  it("document every column of every CSV, with each file's header as the writer writes it", () => {
    for (const columns of [trialsColumns, samplesColumns, eventsColumns, framesColumns, progressColumns]) {
      expect(results).toContain(`\n${columns.join(',')}\n`);
      for (const column of columns) expect(results).toMatch(new RegExp(`\\| \`${column}\` \\|(?: [^|\\n]*\\|)? \\S`));
    }
  });

  it('document each scenario field with its default, limits and description', () => {
    expect(scenarios).toContain('| `probe.intervalMs` | number | `5` | 1 to 60000 | Open-loop tick interval');
    expect(scenarios).toContain('| `local.checkpointStore` | enum | `"disk"` | one of `disk`, `tmpfs` |');
    expect(scenarios).toContain('| `workloads` | list | **required** | at least 1 entry |');
    for (const key of Object.keys(scenarioSchema.shape)) expect(scenarios).toMatch(new RegExp(`\\| \`${key}[.\`]`));
  });

  it('document every strategy object and workload type', () => {
    for (const name of ['criu', 'criu-lazy', 'criu-pageserver', 'criu-precopy', 'redeploy', 'drain', 'podmigration', 'kubelet-checkpoint']) {
      expect(scenarios).toContain(`#### \`name: ${name}\``);
    }
    for (const type of ['redis', 'video', 'ml-training']) expect(scenarios).toContain(`#### \`type: ${type}\``);
  });
});

describe('withGenerated', () => {
  it('replaces only the text between the markers', () => {
    const page = `# Title\n\nby hand\n\n${GENERATED_BEGIN}\nold\n${GENERATED_END}\n\nafter\n`;
    expect(withGenerated(page, 'new\n', 'p.md')).toBe(`# Title\n\nby hand\n\n${GENERATED_BEGIN}\n\nnew\n\n${GENERATED_END}\n\nafter\n`);
  });

  it('refuses a page without the markers, naming the page and the lines to add', () => {
    expect(() => withGenerated('# no block\n', 'x', 'docs/x.md')).toThrow(/docs\/x\.md: no generated block .*BEGIN GENERATED/);
  });
});
