import { XMLValidator } from 'fast-xml-parser';
import t from 'tap';
import { barChart, escapeXml, lineChart, niceTicks } from '../src/report/svg-chart.js';

const count = (text: string, needle: string): number => text.split(needle).length - 1;

t.test('svg lineChart writes a well-formed document with one polyline per series', async (t) => {
  const svg = lineChart({
    title: 'Hit ratio <zipf & "scan">',
    xLabel: 'cache size',
    yLabel: 'hit ratio',
    xScale: 'log',
    series: [
      {
        name: 'lru-cache',
        points: [
          [1, 0.4],
          [10, 0.68],
        ],
      },
      {
        name: "shoal's tinylfu",
        points: [
          [10, 0.74],
          [1, 0.52],
        ],
      },
    ],
    formatX: (x) => `${x}%`,
    formatY: (y) => `${Math.round(y * 100)}%`,
  });
  t.equal(XMLValidator.validate(svg), true);
  t.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  t.equal(count(svg, '<polyline'), 2);
  t.equal(count(svg, '<circle'), 4);
  t.match(svg, 'Hit ratio &#60;zipf &#38; &#34;scan&#34;&#62;');
  t.match(svg, 'shoal&#39;s tinylfu');
  t.match(svg, '>10%</text>');
});

t.test('svg lineChart draws a wide anchor and a dashed bound, in the legend too', async (t) => {
  const svg = lineChart({
    title: 't',
    xLabel: 'x',
    yLabel: 'y',
    series: [
      { name: 'anchor', style: 'wide', points: [[1, 1]] },
      { name: 'bound', style: 'dashed', points: [[1, 2]] },
    ],
  });
  t.equal(XMLValidator.validate(svg), true);
  t.equal(count(svg, 'stroke-width="6" stroke-opacity="0.45"'), 2);
  t.equal(count(svg, 'stroke-dasharray="6 4"'), 2);
});

t.test('svg barChart writes a well-formed document with one rect per finite value', async (t) => {
  const svg = barChart({
    title: 'Throughput',
    yLabel: 'ops/s',
    categories: ['get', 'set', 'mixed'],
    series: [
      { name: 'lru-cache', values: [12e6, 6e6, 8e6] },
      { name: 'shoal-lru', values: [11e6, Number.NaN, 7e6] },
    ],
  });
  t.equal(XMLValidator.validate(svg), true);
  // background + legend boxes (2) + bars (5)
  t.equal(count(svg, '<rect'), 1 + 2 + 5);
});

t.test('svg charts reject empty or mismatched data', async (t) => {
  t.throws(() => lineChart({ title: 'x', xLabel: 'x', yLabel: 'y', series: [] }), RangeError);
  t.throws(
    () => lineChart({ title: 'x', xLabel: 'x', yLabel: 'y', xScale: 'log', series: [{ name: 'a', points: [[0, 1]] }] }),
    RangeError,
  );
  t.throws(
    () => barChart({ title: 'x', yLabel: 'y', categories: ['a'], series: [{ name: 's', values: [1, 2] }] }),
    RangeError,
  );
});

t.test('svg niceTicks picks round steps covering the range', async (t) => {
  t.same(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  t.same(niceTicks(0, 12_000_000), [0, 5e6, 10e6, 15e6]);
  t.same(niceTicks(0.2, 0.9), [0.2, 0.4, 0.6, 0.8, 1]);
  t.same(niceTicks(3, 3), [3]);
  t.equal(escapeXml(`a<b>&"'`), 'a&#60;b&#62;&#38;&#34;&#39;');
});
