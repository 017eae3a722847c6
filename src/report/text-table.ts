// Plain-text tables for the terminal: columns padded to their widest cell, the first `leftColumns`
// (names) left-aligned, the rest (numbers) right-aligned, two spaces between columns.
export function textTable(header: readonly string[], body: readonly (readonly string[])[], leftColumns = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}
