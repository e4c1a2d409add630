/**
 * Prometheus metrics in the text exposition format (version 0.0.4), written here rather than
 * pulled in: a few counters, gauges read at scrape time and histograms are all Jejak needs. Each
 * process exposes its own; Prometheus adds them up across processes (scrape every process, or
 * each cluster worker by its own port; see the README).
 */
type Labels = Record<string, string>;

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (l: Labels) => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escape(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};
const key = (l: Labels) => JSON.stringify(Object.entries(l).sort());

export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    const v = this.values.get(k) ?? { labels, value: 0 };
    v.value += by;
    this.values.set(k, v);
  }
  lines(): string[] {
    return [...this.values.values()].map((v) => `${this.name}${labelText(v.labels)} ${v.value}`);
  }
}

export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, private readonly buckets: number[]) {}
  observe(labels: Labels, value: number): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    this.buckets.forEach((b, i) => { if (value <= b) s!.counts[i]++; });
    s.sum += value;
    s.count++;
  }
  lines(): string[] {
    const out: string[] = [];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i]}`));
      out.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`, `${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return out;
  }
}

/** A gauge whose values are read when Prometheus scrapes (queue depth, pool use…), or a counter kept elsewhere. */
export interface Gauge {
  name: string;
  help: string;
  /** 'counter' for a total that only grows (kept by another part, read at scrape time). */
  type?: 'gauge' | 'counter';
  read(): Promise<{ labels?: Labels; value: number }[]>;
}

export class Metrics {
  readonly requestSeconds = new Histogram('jejak_http_request_duration_seconds', 'HTTP requests by route pattern, method and status class', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  readonly launches = new Counter('jejak_lti_launches_total', 'LTI launches accepted');
  readonly answers = new Counter('jejak_practice_answers_total', 'Answers recorded');
  readonly inferenceSeconds = new Histogram('jejak_kt_inference_duration_seconds', 'Knowledge-tracing inference time', [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25]);
  private readonly gauges: Gauge[] = [];

  gauge(g: Gauge): void {
    this.gauges.push(g);
  }

  async exposition(): Promise<string> {
    const out: string[] = [];
    const block = (name: string, help: string, type: string, lines: string[]) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
    block(this.requestSeconds.name, this.requestSeconds.help, 'histogram', this.requestSeconds.lines());
    block(this.launches.name, this.launches.help, 'counter', this.launches.lines());
    block(this.answers.name, this.answers.help, 'counter', this.answers.lines());
    block(this.inferenceSeconds.name, this.inferenceSeconds.help, 'histogram', this.inferenceSeconds.lines());
    for (const g of this.gauges) {
      // One gauge failing (database away) must not hide the others.
      const values = await g.read().catch(() => []);
      block(g.name, g.help, g.type ?? 'gauge', values.map((v) => `${g.name}${labelText(v.labels ?? {})} ${v.value}`));
    }
    return out.join('\n') + '\n';
  }
}
