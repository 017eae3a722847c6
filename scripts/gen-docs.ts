// `npm run docs`: rewrites the generated blocks of docs/results.md and docs/scenarios.md from the
// code (src/docs/reference-docs.ts). Run it after changing a CSV column's doc or a scenario field;
// test/docs/reference-docs.test.ts fails until the committed pages match.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generatedReferences, withGenerated } from '../src/docs/reference-docs.ts';

const root = resolve(import.meta.dirname, '..');
for (const [path, generated] of Object.entries(generatedReferences())) {
  const file = resolve(root, path);
  const before = readFileSync(file, 'utf8');
  const after = withGenerated(before, generated, path);
  if (after === before) {
    console.log(`${path}: current`);
  } else {
    writeFileSync(file, after);
    console.log(`${path}: rewritten`);
  }
}
