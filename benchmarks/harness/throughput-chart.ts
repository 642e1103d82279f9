/** One line of the chart: a system's calls per second at each concurrency. */
export interface ChartSeries {
  readonly name: string;
  readonly points: readonly { readonly concurrency: number; readonly callsPerSecond: number }[];
}

const WIDTH = 720;
const HEIGHT = 420;
const MARGIN = { top: 48, right: 150, bottom: 56, left: 84 };
const COLORS = ['#d62728', '#1f77b4', '#2ca02c', '#7f7f7f', '#9467bd', '#ff7f0e'];

/** Round tick steps for a linear axis from 0 to `max`: 1, 2 or 5 times a power of ten. */
function niceStep(max: number, ticks: number): number {
  const rough = max / ticks;
  const power = 10 ** Math.floor(Math.log10(rough));
  const multiple = [1, 2, 5, 10].find((m) => m * power >= rough) ?? 10;
  return multiple * power;
}

function formatCount(value: number): string {
  if (value >= 1_000_000) return `${value / 1_000_000}M`;
  if (value >= 1_000) return `${value / 1_000}k`;
  return String(value);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A hand-written SVG line chart of throughput against concurrency: x on a log scale (the
 * concurrencies measured), y linear from 0, one line per series, a legend on the right.
 *
 * @example
 * ```ts
 * writeFileSync('throughput.svg', throughputChart('message1', [{ name: 'phobos', points }]));
 * ```
 */
export function throughputChart(title: string, series: readonly ChartSeries[]): string {
  const concurrencies = [...new Set(series.flatMap((s) => s.points.map((p) => p.concurrency)))].sort(
    (a, b) => a - b,
  );
  const maxY = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.callsPerSecond)));
  const step = niceStep(maxY, 5);
  const top = Math.ceil(maxY / step) * step;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const lo = Math.log10(concurrencies[0] ?? 1);
  const hi = Math.log10(concurrencies[concurrencies.length - 1] ?? 1);
  const x = (concurrency: number): number =>
    MARGIN.left + (hi === lo ? plotWidth / 2 : ((Math.log10(concurrency) - lo) / (hi - lo)) * plotWidth);
  const y = (value: number): number => MARGIN.top + plotHeight - (value / top) * plotHeight;
  const f = (n: number): string => n.toFixed(1);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (let value = 0; value <= top + step / 2; value += step) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${f(y(value))}" y2="${f(y(value))}" stroke="#e0e0e0"/>`,
      `<text x="${MARGIN.left - 8}" y="${f(y(value) + 4)}" text-anchor="end">${formatCount(value)}</text>`,
    );
  }
  for (const concurrency of concurrencies) {
    parts.push(
      `<line x1="${f(x(concurrency))}" x2="${f(x(concurrency))}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}" stroke="#f0f0f0"/>`,
      `<text x="${f(x(concurrency))}" y="${MARGIN.top + plotHeight + 18}" text-anchor="middle">${concurrency}</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#555"/>`,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 14}" text-anchor="middle">calls in flight (log scale)</text>`,
    `<text transform="translate(20 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">calls per second</text>`,
  );
  series.forEach((s, index) => {
    const color = COLORS[index % COLORS.length] as string;
    const points = [...s.points].sort((a, b) => a.concurrency - b.concurrency);
    if (points.length > 1) {
      const path = points.map((p) => `${f(x(p.concurrency))},${f(y(p.callsPerSecond))}`).join(' ');
      parts.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2.5"/>`);
    }
    for (const p of points) {
      parts.push(
        `<circle cx="${f(x(p.concurrency))}" cy="${f(y(p.callsPerSecond))}" r="4" fill="${color}"><title>${escapeXml(s.name)}: ${Math.round(p.callsPerSecond)} calls/s at ${p.concurrency} in flight</title></circle>`,
      );
    }
    const legendY = MARGIN.top + 10 + index * 22;
    const legendX = MARGIN.left + plotWidth + 16;
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 24}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2.5"/>`,
      `<text x="${legendX + 30}" y="${legendY + 4}">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
