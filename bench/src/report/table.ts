/**
 * Plain tables for the terminal and for markdown, from one spec, so the
 * printed output and the written summary never disagree.
 */

export interface TableColumn {
  readonly header: string;
  /** Numbers read best right-aligned; default 'left'. */
  readonly align?: 'left' | 'right';
}

export interface TableSpec {
  readonly title: string;
  readonly columns: readonly TableColumn[];
  /** Each row has one cell per column. */
  readonly rows: readonly (readonly string[])[];
}

function pad(text: string, width: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, width - [...text].length));
  return align === 'right' ? fill + text : text + fill;
}

function checkShape(table: TableSpec): void {
  for (const row of table.rows) {
    if (row.length !== table.columns.length) {
      throw new RangeError(`table "${table.title}": a row has ${row.length} cells for ${table.columns.length} columns`);
    }
  }
}

/** Aligned columns separated by two spaces, a dashed rule under the header, the title on top. */
export function renderText(table: TableSpec): string {
  checkShape(table);
  const widths = table.columns.map((col, i) =>
    Math.max([...col.header].length, ...table.rows.map((row) => [...(row[i] as string)].length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => pad(cell, widths[i] as number, table.columns[i]?.align ?? 'left'))
      .join('  ')
      .trimEnd();
  const out = [
    table.title,
    line(table.columns.map((c) => c.header)),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...table.rows.map(line),
  ];
  return `${out.join('\n')}\n`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** A GitHub-flavoured markdown table under a bold title. */
export function renderMarkdown(table: TableSpec): string {
  checkShape(table);
  const row = (cells: readonly string[]): string => `| ${cells.map(escapeCell).join(' | ')} |`;
  const rule = `|${table.columns.map((c) => (c.align === 'right' ? '---:' : '---')).join('|')}|`;
  return [`**${table.title}**`, '', row(table.columns.map((c) => c.header)), rule, ...table.rows.map(row), ''].join(
    '\n',
  );
}
