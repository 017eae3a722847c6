// Opens the HTML report in a real browser — the distribution's headless Chromium — and checks that
// every chart was laid out with a size and drew its marks, and that a screenshot shows something.
// Chromium is installed with apt-get when it is missing (as root; on Debian 12 about 20 s).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readResults } from '../../src/report/read-results.ts';
import { renderHtmlReport } from '../../src/report/html-report.ts';
import { reportFixtureTrials, writeResultsDir } from './fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'migbench-chromium-'));
const reportFile = join(root, 'report.html');
let chromium = '';

function which(names: string[]): string | undefined {
  for (const name of names) {
    try {
      const path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (path) return path;
    } catch {
      // not on PATH
    }
  }
  return undefined;
}

function ensureChromium(): string {
  const found = which(['chromium', 'chromium-browser']);
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error('this test needs Chromium, which is not installed, and only root can install it: run `sudo apt-get install -y chromium` (Debian) and run the tests again');
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // A fresh machine may have no package lists yet.
  execFileSync('apt-get', ['update', '-q'], { env, stdio: 'pipe', timeout: 300_000 });
  execFileSync('apt-get', ['install', '-y', '-q', 'chromium'], { env, stdio: 'pipe', timeout: 540_000 });
  const installed = which(['chromium']);
  if (!installed) throw new Error('apt-get install chromium succeeded but `chromium` is not on PATH');
  return installed;
}

let runs = 0;

/** Runs headless Chromium on the report, with a profile of its own; its chatter on stderr (D-Bus, GPU) is ignored. */
function runChromium(args: string[]): string {
  return execFileSync(
    chromium,
    ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--hide-scrollbars', `--user-data-dir=${join(root, `profile-${++runs}`)}`, '--window-size=1280,2000', ...args, `file://${reportFile}`],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 45_000, maxBuffer: 64 * 1024 * 1024 },
  );
}

const CHARTS = ['dist-downtime_ms', 'dist-migration_ms', 'anatomy', 'criu-phases', ...[1, 2, 3, 4, 5].map((n) => `timeline-${n}`)];

describe('the report in headless Chromium', () => {
  beforeAll(async () => {
    chromium = ensureChromium();
    const dir = join(root, 'run');
    writeResultsDir(dir, reportFixtureTrials());
    writeFileSync(reportFile, await renderHtmlReport(await readResults(dir)));
  }, 600_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('lays out every chart with a size and draws its marks', () => {
    const dom = runChromium(['--dump-dom']);
    const check = /<pre id="render-check"[^>]*>([\s\S]*?)<\/pre>/.exec(dom)?.[1];
    expect(check, 'the render check wrote nothing: did the page fail to load?').toBeTruthy();
    const charts = JSON.parse(check!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')) as { id: string; width: number; height: number; marks: number }[];
    expect(charts.map((c) => c.id)).toEqual(CHARTS);
    for (const c of charts) {
      expect(c.width, c.id).toBeGreaterThan(300);
      expect(c.height, c.id).toBeGreaterThan(30);
      expect(c.marks, c.id).toBeGreaterThan(0);
    }
    // The escaped error text reached the page as text, not as an element.
    expect(dom).toContain('error: &lt;script&gt;alert("pwned")&lt;/script&gt;');
  }, 60_000);

  it('takes a screenshot that is not blank', () => {
    const png = join(root, 'report.png');
    runChromium([`--screenshot=${png}`]);
    const bytes = readFileSync(png);
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // IHDR: width and height, big-endian, at bytes 16 and 20.
    expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([1280, 2000]);
    // A white page compresses to a few KB; tables, text and charts do not.
    expect(statSync(png).size).toBeGreaterThan(50_000);
  }, 60_000);
});
