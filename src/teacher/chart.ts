/**
 * A small line chart of one skill's estimate over the student's answers, as server-rendered SVG: no
 * script, no colour needed to read it (one line per chart, its 80% range as a light band, the goal
 * drawn dashed and labelled). Point i is the estimate recorded right after the student's (i + 1)th
 * answer on the skill. Returns markup with every text escaped.
 */
export function masteryChartSvg(o: { id: string; title: string; description: string; points: { p: number; low: number; high: number }[]; goal: number; goalLabel: string }): string {
  const w = 320, h = 140, left = 34, right = 8, top = 10, bottom = 22;
  const plotW = w - left - right, plotH = h - top - bottom;
  const n = Math.max(1, o.points.length - 1);
  const x = (i: number) => left + (o.points.length > 1 ? (plotW * i) / n : plotW / 2);
  const y = (p: number) => top + plotH * (1 - Math.min(1, Math.max(0, p)));
  const r1 = (v: number) => Math.round(v * 10) / 10;
  const at = (i: number, p: number) => `${r1(x(i))},${r1(y(p))}`;
  const line = o.points.map((e, i) => at(i, e.p)).join(' ');
  const band = [...o.points.map((e, i) => at(i, e.high)), ...o.points.map((e, i) => at(i, e.low)).reverse()].join(' ');
  const dots = o.points.map((e, i) => `<circle cx="${r1(x(i))}" cy="${r1(y(e.p))}" r="2.5"/>`).join('');
  const grid = [0, 0.5, 1].map((p) => `<line class="grid" x1="${left}" x2="${w - right}" y1="${r1(y(p))}" y2="${r1(y(p))}"/><text class="axis" x="${left - 4}" y="${r1(y(p)) + 4}" text-anchor="end">${Math.round(p * 100)}%</text>`).join('');
  return `<svg class="chart" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-labelledby="${o.id}-t ${o.id}-d" xmlns="http://www.w3.org/2000/svg">`
    + `<title id="${o.id}-t">${esc(o.title)}</title><desc id="${o.id}-d">${esc(o.description)}</desc>`
    + grid
    + `<polygon class="interval" points="${band}" fill="currentColor" fill-opacity="0.12" stroke="none"/>`
    + `<line class="goal" x1="${left}" x2="${w - right}" y1="${r1(y(o.goal))}" y2="${r1(y(o.goal))}"/>`
    + `<text class="axis" x="${w - right}" y="${r1(y(o.goal)) - 3}" text-anchor="end">${esc(o.goalLabel)}</text>`
    + `<polyline class="trace" points="${line}"/><g class="dots">${dots}</g>`
    + `<text class="axis" x="${left}" y="${h - 6}">1</text><text class="axis" x="${w - right}" y="${h - 6}" text-anchor="end">${o.points.length}</text>`
    + `</svg>`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
