/**
 * A small line chart of one skill's mastery over the student's answers, as server-rendered SVG: no
 * script, no colour needed to read it (one line per chart, the goal drawn dashed and labelled).
 * Returns markup with every text escaped.
 */
export function masteryChartSvg(o: { id: string; title: string; description: string; points: number[]; goal: number; goalLabel: string }): string {
  const w = 320, h = 140, left = 34, right = 8, top = 10, bottom = 22;
  const plotW = w - left - right, plotH = h - top - bottom;
  const n = Math.max(1, o.points.length - 1);
  const x = (i: number) => left + (plotW * i) / n;
  const y = (p: number) => top + plotH * (1 - Math.min(1, Math.max(0, p)));
  const r1 = (v: number) => Math.round(v * 10) / 10;
  const line = o.points.map((p, i) => `${r1(x(i))},${r1(y(p))}`).join(' ');
  const dots = o.points.map((p, i) => `<circle cx="${r1(x(i))}" cy="${r1(y(p))}" r="2.5"/>`).join('');
  const grid = [0, 0.5, 1].map((p) => `<line class="grid" x1="${left}" x2="${w - right}" y1="${r1(y(p))}" y2="${r1(y(p))}"/><text class="axis" x="${left - 4}" y="${r1(y(p)) + 4}" text-anchor="end">${Math.round(p * 100)}%</text>`).join('');
  return `<svg class="chart" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-labelledby="${o.id}-t ${o.id}-d" xmlns="http://www.w3.org/2000/svg">`
    + `<title id="${o.id}-t">${esc(o.title)}</title><desc id="${o.id}-d">${esc(o.description)}</desc>`
    + grid
    + `<line class="goal" x1="${left}" x2="${w - right}" y1="${r1(y(o.goal))}" y2="${r1(y(o.goal))}"/>`
    + `<text class="axis" x="${w - right}" y="${r1(y(o.goal)) - 3}" text-anchor="end">${esc(o.goalLabel)}</text>`
    + `<polyline class="trace" points="${line}"/><g class="dots">${dots}</g>`
    + `<text class="axis" x="${left}" y="${h - 6}">0</text><text class="axis" x="${w - right}" y="${h - 6}" text-anchor="end">${o.points.length - 1}</text>`
    + `</svg>`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
