import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fuzzReportMarkdown, runFuzz } from '../test/security/fuzz';

/** `npm run fuzz`: a long fuzz run, report in bench/fuzz-report.md (+ .json). Exit 1 if anything broke. */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seed: { type: 'string', default: '2026' }, inputs: { type: 'string', default: '500' } } });
  const started = performance.now();
  const report = await runFuzz({ seed: Number(values.seed), perTarget: Number(values.inputs) });
  const seconds = (performance.now() - started) / 1000;
  fs.writeFileSync(path.join(__dirname, 'fuzz-report.md'), fuzzReportMarkdown(report, seconds));
  fs.writeFileSync(path.join(__dirname, 'fuzz-report.json'), JSON.stringify({ ...report, seconds }, null, 2) + '\n');
  const problems = report.targets.reduce((n, t) => n + t.problems.length, 0);
  process.stdout.write(fuzzReportMarkdown(report, seconds));
  process.exit(problems === 0 && report.healthyAfter ? 0 : 1);
}

void main();
