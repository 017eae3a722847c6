// One problem of a scenario file, as the loader reports it (path, expected, found, where), and how a
// value found in the document is named in such a message.
export interface ScenarioProblem {
  /** Path in the document, e.g. `workloads[0].keys`; '' for the document itself. */
  path: string;
  expected: string;
  /** What the document holds there, as written (or 'nothing' when the field is missing). */
  found: string;
  /** Where in the file, when known (`line:col`). */
  where?: string;
}

/** A value from the document as a problem message names it. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return `a list (${value.length} item${value.length === 1 ? '' : 's'})`;
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}
