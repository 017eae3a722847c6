// The layering of src/ (docs: /ARCHITECTURE.md): no import cycle between files or between folders,
// and the rules that keep the layers apart — the platforms never reach into the lab or the builds,
// the runner knows no platform, and no command imports another. Read from the source text, so it
// fails the moment an import breaks a rule.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cycles, fileGraph, folderGraph, folderOf, sourceFiles, srcRoot } from './import-graph.ts';

const files = fileGraph();
const folders = folderGraph(files);

/** Every import `from` → `to` (src/-relative paths) for which `broken` holds, as "from → to" lines. */
function importsWhere(broken: (from: string, to: string) => boolean): string[] {
  return [...files].flatMap(([from, targets]) => targets.filter((to) => broken(from, to)).map((to) => `${from} → ${to}`));
}

const within = (file: string, folder: string) => file === folder || file.startsWith(`${folder}/`);

describe('the import graph of src/', () => {
  it('has files to check (the scanner reads imports)', () => {
    expect(files.size).toBeGreaterThan(100);
    expect(files.get('cli.ts')).toContain('commands/run.ts');
  });

  it('has no import cycle between files', () => {
    expect(cycles(files)).toEqual([]);
  });

  it('has no import cycle between folders', () => {
    expect(cycles(folders)).toEqual([]);
  });

  it('keeps the platforms out of the lab and the builds', () => {
    expect(importsWhere((from, to) => within(from, 'platforms') && (within(to, 'lab') || within(to, 'setup')))).toEqual([]);
  });

  it('keeps the runner, the strategies and the platforms out of the lab', () => {
    expect(importsWhere((from, to) => ['runner', 'strategies', 'platforms'].some((f) => within(from, f)) && within(to, 'lab'))).toEqual([]);
  });

  it('keeps the runner free of any platform (the platforms implement its contract, runner/platform-driver.ts)', () => {
    expect(importsWhere((from, to) => within(from, 'runner') && within(to, 'platforms'))).toEqual([]);
  });

  it('has no command importing another command', () => {
    // What several commands share and no command is: exit codes, the root check, the platforms' host support.
    const shared = new Set(['commands/exit-codes.ts', 'commands/root.ts', 'commands/platform-support.ts']);
    expect(importsWhere((from, to) => folderOf(from) === 'commands' && folderOf(to) === 'commands' && !shared.has(to))).toEqual([]);
  });

  it('chooses a platform by name only in the registries keyed by it (no `platform === ...` branch)', () => {
    // A branch on the platform's name elsewhere is a second place a new platform would have to be added.
    const branch = /\bplatform\s*[!=]==?\s*['"](local|kubernetes)['"]|['"](local|kubernetes)['"]\s*[!=]==?\s*\w*\.?platform\b/;
    const hits = sourceFiles().flatMap((file) =>
      readFileSync(join(srcRoot, file), 'utf8')
        .split('\n')
        .flatMap((line, i) => (branch.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(hits).toEqual([]);
  });
});
