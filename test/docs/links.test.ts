// Every relative link in README.md and docs/ must lead to a file that exists (and, for a link to a
// heading of a Markdown page, to a heading that exists), and every docs page must be reachable from
// the README — a moved or renamed page fails here instead of leaving a dead link.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? markdownFiles(path) : path.endsWith('.md') ? [path] : [];
  });
}

const pages = [join(root, 'README.md'), ...markdownFiles(join(root, 'docs'))];

/** The [text](target) links of a Markdown page, outside code blocks and code spans. */
function links(text: string): string[] {
  const prose = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(path: string): Set<string> {
  const text = readFileSync(path, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

it('resolves every relative link in README.md and docs/ to an existing file and heading', () => {
  const broken: string[] = [];
  for (const page of pages) {
    for (const link of links(readFileSync(page, 'utf8'))) {
      if (/^[a-z]+:/i.test(link)) continue; // https:, mailto:
      const [file, anchor] = link.split('#') as [string, string | undefined];
      const target = file === '' ? page : resolve(dirname(page), file);
      if (!existsSync(target)) broken.push(`${relative(root, page)}: ${link} (no such file)`);
      else if (anchor && target.endsWith('.md') && !anchors(target).has(anchor)) broken.push(`${relative(root, page)}: ${link} (no such heading)`);
    }
  }
  expect(broken).toEqual([]);
});

it('links every docs page from the README, the dated findings too', () => {
  const linked = (page: string) => new Set(links(readFileSync(page, 'utf8')).map((l) => resolve(dirname(page), l.split('#')[0]!)));
  const fromReadme = linked(join(root, 'README.md'));
  const unlinked = pages.filter((p) => p !== join(root, 'README.md')).filter((p) => !fromReadme.has(p));
  expect(unlinked.map((p) => relative(root, p))).toEqual([]);
});
