// Vega-Lite spec → static SVG markup, in Node, when the report is generated: Vega's headless
// renderer ('none') draws the scene to an SVG string, so the HTML needs no script to show a chart.
// No canvas package is needed: without one Vega estimates text widths from the font size.
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Shared look of every chart. */
const CHART_CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal', gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal', orient: 'bottom', direction: 'horizontal' },
} as const;

export const COLORS = {
  ok: '#4c9a5b',
  failed: '#d62728',
  partial: '#fdae6b',
  event: '#777',
  trigger: '#111',
  phase: '#3b6ea5',
} as const;

/** Failed probe samples by why they failed (samples.csv `error`); a merged segment with several reasons is `failed`. */
export const ERROR_COLORS: Record<string, string> = {
  timeout: '#d62728',
  refused: '#8c2d04',
  reset: '#e7298a',
  disconnected: '#7b3294',
  unreachable: '#2d004b',
  wrong_reply: '#000000',
  server_error: '#ff7f0e',
  other: '#f781bf',
};

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { spec: vegaSpec } = compile({ config: CHART_CONFIG, background: 'white', ...spec } as TopLevelSpec);
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    // Inline in HTML the SVG namespace is implied; dropping the declarations leaves no URL in the report.
    return svg.replace(/ xmlns(:xlink)?="[^"]*"/g, '');
  } finally {
    view.finalize();
  }
}
