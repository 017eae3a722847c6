// Opens the HTML report of a real-shaped run in a real browser — the distribution's headless
// Chromium — as a person would: at 1400 px and at 1024 px wide, the page must not run off the right
// edge, every summary row must stay within three lines of text, and every chart must be laid out with
// a size and its marks drawn. A screenshot is kept beside the report for a person to look at.
//
// The run: the committed copy of a `migbench run scenarios/default.yaml` (test/report/default-run/),
// or any results directory named by MIGBENCH_REPORT_RUN (e.g. a fresh run, to refresh
// docs/report-screenshot.png). The report and its screenshot are written to results/report-check/
// (git ignores results/*), or into MIGBENCH_REPORT_RUN itself, and left there: report.html and
// report.png side by side. The test writes the screenshot rather than `migbench report`, because the
// report command is a file transform that needs no browser, no root and starts nothing.
// docs/report-screenshot.png is this screenshot of the committed run, copied.
//
// Chromium is installed with apt-get when it is missing (as root; on Debian 12 about 20 s).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readResults } from '../../src/report/read-results.ts';
import { renderHtmlReport } from '../../src/report/html-report.ts';
import { copyDefaultRun, reportFixtureTrials, writeResultsDir } from './fixtures.ts';

const given = process.env.MIGBENCH_REPORT_RUN;
const runDir = given ? resolve(given) : resolve('results/report-check');
const reportFile = join(runDir, 'report.html');
const screenshotFile = join(runDir, 'report.png');
const scratch = mkdtempSync(join(tmpdir(), 'migbench-chromium-'));
let chromium = '';
/** Workload × strategy groups of the run: the summary's rows (9 in the default run). */
let summaryGroups = 0;

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
    throw new Error(
      'this test needs Chromium, which is not installed, and only root can install it: run `sudo apt-get install -y chromium` (Debian) and run the tests again',
    );
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

/** Runs headless Chromium on a page at the given window size, with a profile of its own; its chatter on stderr (D-Bus, GPU) is ignored. */
function runChromium(page: string, width: number, height: number, args: string[]): string {
  return execFileSync(
    chromium,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--hide-scrollbars',
      `--user-data-dir=${join(scratch, `profile-${++runs}`)}`,
      `--window-size=${width},${height}`,
      ...args,
      `file://${page}`,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 90_000, maxBuffer: 256 * 1024 * 1024 },
  );
}

interface Layout {
  viewportWidth: number;
  scrollWidth: number;
  /** Elements whose right edge is past the viewport's (the first few), to say what overflows. */
  overflowing: string[];
  summaryRows: { row: string; heightPx: number; lineHeightPx: number; lines: number }[];
  /** The summary table's (the first table under "Summary") own width and the width of the box it sits in. */
  summaryTable: { widthPx: number; boxPx: number };
  charts: { id: string; width: number; height: number; intrinsicWidth: number; marks: number }[];
  figures: number;
}

// Measures the laid-out page. Run by the browser after the report's own markup (appended to a copy
// of the report, so the report itself carries no script), once with every <details> closed as it
// opens and once with all of them open (the trials and events tables), and written into the DOM for
// `--dump-dom` to hand back.
const MEASURE = `<script>
(function(){
function describe(el){return el.tagName.toLowerCase()+(el.id?'#'+el.id:'')+(el.className&&typeof el.className==='string'?'.'+el.className.trim().split(/\\s+/).join('.'):'');}
function measure(){
  var vw=window.innerWidth,doc=document.documentElement,over=[];
  document.querySelectorAll('body *').forEach(function(el){if(over.length<8&&el.getBoundingClientRect().right>vw+0.5&&!el.closest('svg'))over.push(describe(el)+' right='+Math.round(el.getBoundingClientRect().right));});
  var rows=[];var el=document.getElementById('summary');while(el&&el.tagName!=='TABLE'&&!el.querySelector('table'))el=el.nextElementSibling;var table=el&&(el.tagName==='TABLE'?el:el.querySelector('table'));
  if(table)table.querySelectorAll('tbody tr').forEach(function(tr){var td=tr.querySelector('td');var cs=getComputedStyle(td);var lh=parseFloat(cs.lineHeight);
    var h=tr.getBoundingClientRect().height;var inner=h-parseFloat(cs.paddingTop)-parseFloat(cs.paddingBottom)-parseFloat(cs.borderTopWidth)-parseFloat(cs.borderBottomWidth);
    rows.push({row:Array.prototype.slice.call(tr.cells,0,2).map(function(c){return c.textContent;}).join(' · '),heightPx:Math.round(h),lineHeightPx:lh,lines:Math.round(inner/lh*10)/10});});
  var charts=[];var figures=document.querySelectorAll('figure.chart');
  figures.forEach(function(f){var s=f.querySelector(':scope > svg, :scope > canvas');if(!s)return;var r=s.getBoundingClientRect();
    charts.push({id:f.id,width:Math.round(r.width),height:Math.round(r.height),intrinsicWidth:Number(s.getAttribute('width'))||Math.round(r.width),marks:s.querySelectorAll('.role-mark > *').length});});
  return {viewportWidth:vw,scrollWidth:doc.scrollWidth,overflowing:over,summaryRows:rows,
    summaryTable:table?{widthPx:Math.round(table.getBoundingClientRect().width),boxPx:Math.round(table.parentElement.getBoundingClientRect().width)}:{widthPx:0,boxPx:0},
    charts:charts,figures:figures.length};
}
var out={closed:measure()};
document.querySelectorAll('details').forEach(function(d){d.open=true;});
out.open=measure();
var pre=document.createElement('pre');pre.id='layout-check';pre.textContent=JSON.stringify(out);document.body.appendChild(pre);
})();
</script>`;

function layoutAt(width: number): { closed: Layout; open: Layout } {
  const html = readFileSync(reportFile, 'utf8');
  const page = join(scratch, `measure-${width}.html`);
  writeFileSync(page, html.replace(/<\/body>/, `${MEASURE}</body>`));
  const dom = runChromium(page, width, 1000, ['--dump-dom']);
  const json = /<pre id="layout-check">([\s\S]*?)<\/pre>/.exec(dom)?.[1];
  if (!json) throw new Error(`the layout check wrote nothing at ${width} px: did the page fail to load?`);
  return JSON.parse(
    json
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&'),
  ) as { closed: Layout; open: Layout };
}

/** The charts the report must have for this run, in page order: the anatomy, both distributions, CRIU's phases and one timeline per trial. */
function expectedCharts(): string[] {
  const trials = readFileSync(join(runDir, 'trials.csv'), 'utf8').trim().split('\n').slice(1);
  return ['anatomy', 'dist-downtime_ms', 'dist-migration_ms', 'criu-phases', ...trials.map((_, i) => `timeline-${i + 1}`)];
}

describe('the report of a default run in headless Chromium', () => {
  beforeAll(async () => {
    chromium = ensureChromium();
    if (!given) {
      rmSync(runDir, { recursive: true, force: true });
      copyDefaultRun(runDir);
    }
    // The directory as a person would give it to `migbench report` (the report shows it in its header).
    const data = await readResults(relative(process.cwd(), runDir) || '.');
    summaryGroups = data.summary.length;
    writeFileSync(reportFile, await renderHtmlReport(data));
  }, 600_000);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  for (const width of [1400, 1024]) {
    describe(`at ${width} px wide`, () => {
      let layout: { closed: Layout; open: Layout };
      beforeAll(() => {
        layout = layoutAt(width);
      }, 120_000);

      it('does not run off the right edge, also with every <details> open', () => {
        for (const state of ['closed', 'open'] as const) {
          const l = layout[state];
          expect(l.viewportWidth, state).toBe(width);
          expect({ state, scrollWidth: l.scrollWidth, overflowing: l.overflowing }).toEqual({ state, scrollWidth: expect.any(Number), overflowing: [] });
          expect(l.scrollWidth, `${state}: document.scrollWidth`).toBeLessThanOrEqual(width);
        }
      });

      it('draws every chart with a size and its marks, scaled no smaller than 70 %', () => {
        const { charts, figures } = layout.closed;
        expect(charts.map((c) => c.id)).toEqual(expectedCharts());
        expect(figures).toBe(charts.length);
        for (const c of charts) {
          expect(c.width, c.id).toBeGreaterThan(300);
          expect(c.height, c.id).toBeGreaterThan(30);
          expect(c.marks, c.id).toBeGreaterThan(0);
          // A chart squeezed into a narrower box is scaled down with its text; below 70 % its 11 px labels go under 8 px.
          expect(c.width / c.intrinsicWidth, c.id).toBeGreaterThanOrEqual(0.7);
        }
      });

      if (width === 1400) {
        it('keeps every summary row within three lines of text and the table within the page', () => {
          const { summaryRows, summaryTable } = layout.closed;
          expect(summaryRows.length).toBe(summaryGroups);
          if (!given) expect(summaryGroups).toBe(9);
          for (const r of summaryRows) expect(r.lines, `${r.row}: ${r.heightPx} px tall at ${r.lineHeightPx} px a line`).toBeLessThanOrEqual(3);
          // The whole table is seen at once, not scrolled inside its box.
          expect(summaryTable.widthPx).toBeLessThanOrEqual(summaryTable.boxPx);
        });

        it('keeps a screenshot of the first screens beside the report', () => {
          rmSync(screenshotFile, { force: true });
          runChromium(reportFile, 1400, 2400, [`--screenshot=${screenshotFile}`]);
          const bytes = readFileSync(screenshotFile);
          expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
          // IHDR: width and height, big-endian, at bytes 16 and 20.
          expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([1400, 2400]);
          // A white page compresses to a few KB; tables, text and charts do not.
          expect(statSync(screenshotFile).size).toBeGreaterThan(50_000);
        }, 120_000);
      }
    });
  }

  it('shows an error or event name with HTML in it as text (the hand-made run)', async () => {
    // html-report.test.ts checks the markup; this is the browser's parse of it.
    const dir = join(scratch, 'hostile');
    writeResultsDir(dir, reportFixtureTrials());
    const page = join(dir, 'report.html');
    writeFileSync(page, await renderHtmlReport(await readResults(dir)));
    const dom = runChromium(page, 1400, 1000, ['--dump-dom']);
    expect(dom).toContain('error: &lt;script&gt;alert("pwned")&lt;/script&gt;');
    expect(dom).not.toContain('<script>alert');
  }, 120_000);
});
