/**
 * A small hand-written SVG writer for benchmark charts (line and grouped bar),
 * so reports need no browser or plotting dependency. Output is a standalone,
 * well-formed SVG document; every text is XML-escaped.
 *
 *   title
 *   y |      o----o          [legend]
 *     |  o--/                 - series a
 *     +-------------- x       - series b
 */

/** A chart ready to be written to `<date>-<scenario>-<name>.svg`. */
export interface ChartFile {
  /** File-name part: lowercase, digits, '-' and '.'. */
  readonly name: string;
  readonly title: string;
  readonly svg: string;
}

export interface LineSeries {
  readonly name: string;
  /** 'wide' draws a thick translucent line that stays visible under series equal to it (an anchor); 'dashed' marks a bound. */
  readonly style?: 'solid' | 'wide' | 'dashed';
  /** [x, y] pairs, any order (drawn sorted by x). */
  readonly points: readonly (readonly [number, number])[];
}

export interface LineChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  /** 'log' spaces x by its logarithm (all x must be > 0). Default 'linear'. */
  readonly xScale?: 'linear' | 'log';
  /** Tick positions on x; default: every distinct x of the data. */
  readonly xTicks?: readonly number[];
  readonly formatX?: (x: number) => string;
  readonly formatY?: (y: number) => string;
  /** Force the y range (e.g. 0..1 for ratios); default: 0 .. nice max of the data. */
  readonly yMin?: number;
  readonly yMax?: number;
}

export interface BarChartSpec {
  readonly title: string;
  readonly yLabel: string;
  /** Groups along x. */
  readonly categories: readonly string[];
  /** One bar per category per series; `values[i]` belongs to `categories[i]` (NaN: no bar). */
  readonly series: readonly { readonly name: string; readonly values: readonly number[] }[];
  readonly formatY?: (y: number) => string;
}

const WIDTH = 760;
const HEIGHT = 420;
const MARGIN = { top: 44, right: 170, bottom: 56, left: 74 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;
// Colour-blind-safe palette (Okabe-Ito).
const COLORS = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'];

/** Escapes the five XML special characters. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** About `count` round tick values (steps of 1, 2 or 5 x 10^k) enclosing [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(Number.isFinite(lo) && Number.isFinite(hi))) throw new RangeError('niceTicks: bounds must be finite');
  if (hi <= lo) return [lo];
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  // From the last step at or below lo to the first at or above hi, so the ticks enclose the data.
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

function num(n: number): string {
  return Number(n.toFixed(2)).toString();
}

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${num(x)}" y="${num(y)}"${attrs ? ` ${attrs}` : ''}>${escapeXml(content)}</text>`;
}

function frame(title: string, body: string[]): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    text(WIDTH / 2, 24, title, 'text-anchor="middle" font-size="15" font-weight="bold"'),
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function yAxis(
  ticks: readonly number[],
  toY: (v: number) => number,
  format: (v: number) => string,
  label: string,
): string[] {
  const out: string[] = [];
  for (const t of ticks) {
    const y = toY(t);
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_W}" y1="${num(y)}" y2="${num(y)}" stroke="#e5e5e5"/>`);
    out.push(text(MARGIN.left - 8, y + 4, format(t), 'text-anchor="end"'));
  }
  const cy = MARGIN.top + PLOT_H / 2;
  out.push(text(18, cy, label, `text-anchor="middle" transform="rotate(-90 18 ${num(cy)})"`));
  out.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + PLOT_H}" stroke="#333333"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_W}" y1="${MARGIN.top + PLOT_H}" y2="${MARGIN.top + PLOT_H}" stroke="#333333"/>`,
  );
  return out;
}

function strokeOf(style: LineSeries['style']): string {
  if (style === 'wide') return 'stroke-width="6" stroke-opacity="0.45"';
  if (style === 'dashed') return 'stroke-width="2" stroke-dasharray="6 4"';
  return 'stroke-width="2"';
}

function legend(
  names: readonly string[],
  marker: 'line' | 'box',
  styles: readonly LineSeries['style'][] = [],
): string[] {
  const out: string[] = [];
  const x = MARGIN.left + PLOT_W + 16;
  names.forEach((name, i) => {
    const y = MARGIN.top + 8 + i * 20;
    const color = COLORS[i % COLORS.length] as string;
    out.push(
      marker === 'line'
        ? `<line x1="${x}" x2="${x + 20}" y1="${y}" y2="${y}" stroke="${color}" ${strokeOf(styles[i])}/>`
        : `<rect x="${x + 4}" y="${y - 6}" width="12" height="12" fill="${color}"/>`,
    );
    out.push(text(x + 26, y + 4, name));
  });
  return out;
}

/** A line chart with one polyline (and point markers) per series. */
export function lineChart(spec: LineChartSpec): string {
  const log = spec.xScale === 'log';
  const xs = spec.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = spec.series.flatMap((s) => s.points.map((p) => p[1]));
  if (xs.length === 0) throw new RangeError(`lineChart "${spec.title}": no points`);
  if ([...xs, ...ys].some((v) => !Number.isFinite(v)))
    throw new RangeError(`lineChart "${spec.title}": non-finite point`);
  if (log && xs.some((x) => x <= 0)) throw new RangeError(`lineChart "${spec.title}": log scale needs x > 0`);
  const fx = (x: number): number => (log ? Math.log10(x) : x);
  let x0 = Math.min(...xs.map(fx));
  let x1 = Math.max(...xs.map(fx));
  if (x1 === x0) {
    x0 -= 1;
    x1 += 1;
  }
  const yTicks = niceTicks(spec.yMin ?? Math.min(0, ...ys), spec.yMax ?? Math.max(...ys));
  const y0 = spec.yMin ?? (yTicks[0] as number);
  const y1 = Math.max(spec.yMax ?? (yTicks[yTicks.length - 1] as number), y0 + Number.EPSILON);
  const toX = (x: number): number => MARGIN.left + ((fx(x) - x0) / (x1 - x0)) * PLOT_W;
  const toY = (y: number): number => MARGIN.top + PLOT_H - ((y - y0) / (y1 - y0)) * PLOT_H;
  const formatX = spec.formatX ?? ((x: number) => String(x));
  const formatY = spec.formatY ?? ((y: number) => String(y));

  const body = yAxis(yTicks, toY, formatY, spec.yLabel);
  const xTicks = spec.xTicks ?? [...new Set(xs)].sort((a, b) => a - b);
  for (const t of xTicks) {
    const x = toX(t);
    body.push(
      `<line x1="${num(x)}" x2="${num(x)}" y1="${MARGIN.top + PLOT_H}" y2="${MARGIN.top + PLOT_H + 5}" stroke="#333333"/>`,
    );
    body.push(text(x, MARGIN.top + PLOT_H + 19, formatX(t), 'text-anchor="middle"'));
  }
  body.push(text(MARGIN.left + PLOT_W / 2, HEIGHT - 14, spec.xLabel, 'text-anchor="middle"'));
  spec.series.forEach((series, i) => {
    const color = COLORS[i % COLORS.length] as string;
    const points = [...series.points].sort((a, b) => a[0] - b[0]);
    const coords = points.map(([x, y]) => `${num(toX(x))},${num(toY(y))}`).join(' ');
    body.push(`<g><title>${escapeXml(series.name)}</title>`);
    const stroke = strokeOf(series.style);
    body.push(`<polyline points="${coords}" fill="none" stroke="${color}" ${stroke}/>`);
    for (const [x, y] of points) {
      body.push(`<circle cx="${num(toX(x))}" cy="${num(toY(y))}" r="3.5" fill="${color}"/>`);
    }
    body.push('</g>');
  });
  body.push(
    ...legend(
      spec.series.map((s) => s.name),
      'line',
      spec.series.map((s) => s.style),
    ),
  );
  return frame(spec.title, body);
}

/** A grouped bar chart: categories along x, one bar per series in each group. */
export function barChart(spec: BarChartSpec): string {
  for (const s of spec.series) {
    if (s.values.length !== spec.categories.length) {
      throw new RangeError(
        `barChart "${spec.title}": series ${s.name} has ${s.values.length} values for ${spec.categories.length} categories`,
      );
    }
  }
  const values = spec.series.flatMap((s) => s.values.filter((v) => Number.isFinite(v)));
  if (values.length === 0) throw new RangeError(`barChart "${spec.title}": no values`);
  const yTicks = niceTicks(0, Math.max(...values, Number.EPSILON));
  const yMax = yTicks[yTicks.length - 1] as number;
  const toY = (y: number): number => MARGIN.top + PLOT_H - (y / yMax) * PLOT_H;
  const formatY = spec.formatY ?? ((y: number) => String(y));
  const body = yAxis(yTicks, toY, formatY, spec.yLabel);
  const groupW = PLOT_W / spec.categories.length;
  const barW = (groupW * 0.8) / Math.max(1, spec.series.length);
  spec.categories.forEach((category, c) => {
    const gx = MARGIN.left + c * groupW + groupW * 0.1;
    body.push(text(gx + groupW * 0.4, MARGIN.top + PLOT_H + 19, category, 'text-anchor="middle"'));
    spec.series.forEach((series, s) => {
      const v = series.values[c] as number;
      if (!Number.isFinite(v)) return;
      const y = toY(v);
      const color = COLORS[s % COLORS.length] as string;
      body.push(
        `<rect x="${num(gx + s * barW)}" y="${num(y)}" width="${num(barW - 1)}" height="${num(MARGIN.top + PLOT_H - y)}" fill="${color}"><title>${escapeXml(`${series.name} ${category}: ${formatY(v)}`)}</title></rect>`,
      );
    });
  });
  body.push(
    ...legend(
      spec.series.map((s) => s.name),
      'box',
    ),
  );
  return frame(spec.title, body);
}
