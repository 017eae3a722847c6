// The import graph of src/: which file imports which, read by a small scanner (comments and strings
// stripped first, so an import inside a comment or a template does not count). Type-only imports
// count too: a type from a folder above is still a dependency on that folder's shape.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export const srcRoot = resolve(import.meta.dirname, '../../src');

export function sourceFiles(dir = srcRoot): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [relative(srcRoot, path)] : [];
  });
}

// Blanks out comments and the insides of template literals, keeping quotes of plain strings (module
// specifiers are plain strings).
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|`(?:\\[\s\S]|[^`\\])*`/g, (match) => (match.startsWith('`') ? '``' : ' '));
}

const specifierPattern = /(?:\bimport|\bexport)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The src/ files (relative to src/) that `file` imports. */
export function importsOf(file: string): string[] {
  const text = stripComments(readFileSync(join(srcRoot, file), 'utf8'));
  const targets = new Set<string>();
  for (const match of text.matchAll(specifierPattern)) {
    const specifier = match[1] ?? match[2] ?? '';
    if (!specifier.startsWith('.')) continue;
    targets.add(relative(srcRoot, resolve(srcRoot, dirname(file), specifier)));
  }
  return [...targets].sort();
}

export type ImportGraph = Map<string, string[]>;

export function fileGraph(): ImportGraph {
  return new Map(sourceFiles().map((file) => [file, importsOf(file)]));
}

/**
 * A file's folder: its directory under src/, e.g. `platforms/local`. A file directly in src/ (cli.ts
 * at the top, clock.ts and timeline.ts near the bottom) is no folder's member: it stands for itself.
 */
export function folderOf(file: string): string {
  const dir = dirname(file);
  return dir === '.' ? file : dir;
}

export function folderGraph(files: ImportGraph): ImportGraph {
  const folders = new Map<string, Set<string>>();
  for (const [file, targets] of files) {
    const from = folderOf(file);
    const edges = folders.get(from) ?? new Set<string>();
    for (const target of targets) if (folderOf(target) !== from) edges.add(folderOf(target));
    folders.set(from, edges);
  }
  return new Map([...folders].map(([folder, edges]) => [folder, [...edges].sort()]));
}

/**
 * Every strongly connected component of more than one node (Tarjan's algorithm), each listed as a
 * cycle path through it, so a failure names the files to untangle.
 */
export function cycles(graph: ImportGraph): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    indexOf.set(node, index);
    lowLink.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indexOf.has(next)) {
        visit(next);
        lowLink.set(node, Math.min(lowLink.get(node)!, lowLink.get(next)!));
      } else if (onStack.has(next)) {
        lowLink.set(node, Math.min(lowLink.get(node)!, indexOf.get(next)!));
      }
    }
    if (lowLink.get(node) === indexOf.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indexOf.has(node)) visit(node);
  return components;
}
