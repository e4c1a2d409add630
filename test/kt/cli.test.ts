import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Writable } from 'stream';
import { runKtCli } from '../../src/kt/cli';
import { evaluatePredictor } from '../../src/kt/coldstart';
import { loadDatasetDir } from '../../src/kt/data';
import { Rng } from '../../src/kt/engine/random';
import { auc } from '../../src/kt/metrics';
import { DktPredictor } from '../../src/kt/predict';
import { deserializeDkt, loadTfjsModel } from '../../src/kt/tfjs-format';

/** A stream that keeps what is written to it. */
class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runKtCli(argv, { stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** 3-line records (1-based skills) of students who answer a skill right more often once they have got it right. */
function simulatedRecords(students: number, steps: number, seed: number): string[] {
  const rng = new Rng(seed);
  const lines: string[] = [];
  for (let s = 0; s < students; s++) {
    const known = [false, false, false, false];
    const skills: number[] = [];
    const correct: number[] = [];
    for (let t = 0; t < steps; t++) {
      const k = rng.int(4);
      const right = rng.next() < (known[k] ? 0.9 : 0.25);
      if (rng.next() < 0.3) known[k] = true;
      skills.push(k + 1);
      correct.push(right ? 1 : 0);
    }
    lines.push(String(steps), skills.join(','), correct.join(','));
  }
  return lines;
}

describe('kt CLI', function () {
  this.timeout(60000);
  let tmp: string;
  let data: string;

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jejak-cli-'));
    data = path.join(tmp, 'dkvmn_sim');
    fs.mkdirSync(data);
    fs.writeFileSync(path.join(data, 'sim_train1.csv'), simulatedRecords(300, 30, 1).join('\n') + '\n');
    fs.writeFileSync(path.join(data, 'sim_valid1.csv'), simulatedRecords(20, 30, 2).join('\n') + '\n');
    fs.writeFileSync(path.join(data, 'sim_test.csv'), simulatedRecords(30, 30, 3).join('\n') + '\n');
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('trains, saves, evaluates; the JSON AUC is the AUC of the model\'s own predictions', async () => {
    const modelFile = path.join(tmp, 'sim.dkt');
    const trained = await run(['train', '--data', data, '--out', modelFile, '--epochs', '8', '--hidden', '16', '--seed', '2']);
    expect(trained.stderr).to.match(/\[skill\] epoch 1\/8 loss \d\.\d{4} valid AUC \d\.\d{4}/);
    expect(trained.stderr.match(/epoch \d\/8 loss/g)).to.have.length.within(1, 8);
    expect(trained.code, trained.stderr).to.equal(0);

    const reportFile = path.join(tmp, 'report.json');
    const evaluated = await run(['eval', '--model', modelFile, '--data', data, '--fold', '1', '--json', reportFile]);
    expect(evaluated.code, evaluated.stderr).to.equal(0);
    const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
    expect(report).to.include({ dataset: 'dkvmn_sim', fold: 1, model: modelFile, n: 30 * 29 });
    for (const key of ['auc', 'acc', 'rmse', 'seconds']) expect(report[key], key).to.be.a('number');

    // Recompute from the saved model answer by answer through the serving path.
    const { model } = deserializeDkt(fs.readFileSync(modelFile));
    expect(model.config.hidden).to.equal(16);
    const test = loadDatasetDir(data).test;
    const served = evaluatePredictor(new DktPredictor(model), test);
    expect(served.n).to.equal(report.n);
    expect(report.auc).to.be.closeTo(auc(served.labels, served.preds), 1e-9);
    expect(report.auc).to.be.greaterThan(0.6);
  });

  it('writes TF.js layers files when --out names a model.json', async () => {
    const out = path.join(tmp, 'tfjs', 'model.json');
    const { code, stderr } = await run(['train', '--data', data, '--out', out, '--epochs', '1', '--hidden', '4']);
    expect(code, stderr).to.equal(0);
    expect(fs.existsSync(path.join(tmp, 'tfjs', 'weights.bin'))).to.equal(true);
    expect(loadTfjsModel(path.join(tmp, 'tfjs')).meta.skillIds).to.deep.equal(['1', '2', '3', '4']);
    const report = path.join(tmp, 'tfjs-report.json');
    expect((await run(['eval', '--model', out, '--data', data, '--json', report])).code).to.equal(0);
  });

  const badCases: [string, string[], RegExp][] = [
    ['no command', [], /a command is required/],
    ['an unknown command', ['fit'], /unknown command "fit"/],
    ['a missing --data', ['train', '--out', 'x.dkt'], /--data is required/],
    ['an unknown option', ['train', '--data', '.', '--out', 'x.dkt', '--epoch', '3'], /Unknown option '--epoch'/],
    ['a non-numeric --epochs', ['train', '--data', '.', '--out', 'x.dkt', '--epochs', 'many'], /--epochs must be a positive whole number/],
    ['a bad --item-aware', ['train', '--data', '.', '--out', 'x.dkt', '--item-aware', 'yes'], /--item-aware must be auto, on or off/],
    ['a missing data folder', ['train', '--data', '/nonexistent/dkvmn_x', '--out', 'x.dkt'], /dkvmn_x: is not a folder/],
    ['a missing model file', ['eval', '--model', '/nonexistent/m.dkt', '--data', '.', '--json', 'r.json'], /--model \/nonexistent\/m\.dkt: no such file/],
  ];
  for (const [what, argv, message] of badCases) {
    it(`exits 2 with one line for ${what}`, async () => {
      const { code, stderr } = await run(argv);
      expect(code).to.equal(2);
      expect(stderr).to.match(message);
      expect(stderr.trim().split('\n')).to.have.length(1);
      expect(stderr).not.to.match(/\n\s+at /);
    });
  }

  it('exits 2 naming the file and line of a malformed data file', async () => {
    const bad = path.join(tmp, 'dkvmn_bad');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'b_train1.csv'), '2\n1,2\n0,1\n');
    fs.writeFileSync(path.join(bad, 'b_valid1.csv'), '2\n1,2\n0,1\n');
    fs.writeFileSync(path.join(bad, 'b_test.csv'), '2\n1,2\n0,7\n');
    const { code, stderr } = await run(['train', '--data', bad, '--out', path.join(tmp, 'bad.dkt')]);
    expect(code).to.equal(2);
    expect(stderr.trim()).to.equal(`jejak kt train: ${path.join(bad, 'b_test.csv')}, line 3: responses: field 2 ('7') is not 0 or 1`);
  });

  it('exits 2 when the model is not a model', async () => {
    const notModel = path.join(tmp, 'junk.dkt');
    fs.writeFileSync(notModel, 'hello');
    const { code, stderr } = await run(['eval', '--model', notModel, '--data', data, '--json', path.join(tmp, 'r.json')]);
    expect(code).to.equal(2);
    expect(stderr).to.match(/junk\.dkt: not a Jejak DKT model/);
  });
});
