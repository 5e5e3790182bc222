import type { Spread } from './load.ts';

/** One line of the result table. `met` is null where no target is stated. */
export type Row = {
  scenario: string;
  figure: string;
  target: string;
  ratio: string;
  met: boolean | null;
};

const HEADERS = ['scenario', 'figure: median (min–max)', 'target', 'ratio', 'met?'];

function number(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** "412 req/s (398–430)" */
export function figure(value: Spread, unit: string): string {
  return `${number(value.median)} ${unit} (${number(value.min)}–${number(value.max)})`;
}

export function ratio(value: number): string {
  return `${value.toFixed(2)}×`;
}

/** Plain text, columns padded to their widest cell, notes under the table. */
export function formatTable(rows: Row[], notes: string[]): string {
  const cells = rows.map((row) => [
    row.scenario,
    row.figure,
    row.target,
    row.ratio,
    row.met === null ? '' : row.met ? 'yes' : 'NO',
  ]);
  const widths = HEADERS.map((header, column) =>
    Math.max(header.length, ...cells.map((line) => line[column]!.length)),
  );
  const line = (values: string[]) =>
    values
      .map((value, column) => value.padEnd(widths[column]!))
      .join(' | ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('-+-');
  return [line(HEADERS), rule, ...cells.map(line), '', ...notes.map((note) => `* ${note}`)].join(
    '\n',
  );
}
