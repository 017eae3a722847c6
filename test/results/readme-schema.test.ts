// The README's CSV schema is what notebook users read: every column the writers produce must be
// documented there (or in a page of docs/ — the reference moves there), so adding a column without
// documenting it fails here.
import { readFileSync, readdirSync } from 'node:fs';
import { expect, it } from 'vitest';
import { trialsColumns } from '../../src/results/trials-csv.ts';
import { samplesColumns } from '../../src/results/samples-csv.ts';
import { eventsColumns } from '../../src/results/events-csv.ts';
import { framesColumns } from '../../src/results/frames-csv.ts';
import { progressColumns } from '../../src/results/progress-csv.ts';

const docsDir = new URL('../../docs/', import.meta.url);
const readme = [
  readFileSync(new URL('../../README.md', import.meta.url), 'utf8'),
  ...readdirSync(docsDir).filter((f) => f.endsWith('.md')).map((f) => readFileSync(new URL(f, docsDir), 'utf8')),
].join('\n');

it('documents every column of trials.csv, samples.csv, events.csv, frames.csv and progress.csv in the README', () => {
  const undocumented = [...trialsColumns, ...samplesColumns, ...eventsColumns, ...framesColumns, ...progressColumns].filter((c) => !readme.includes(`| \`${c}\` |`));
  expect(undocumented).toEqual([]);
});
