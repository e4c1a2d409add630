import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import * as tf from '@tensorflow/tfjs';
import { createDkt, dktConfig, DktModel, dktLayout, paramView } from '../../src/kt/dkt';
import { Rng } from '../../src/kt/engine/random';
import { DktPredictor } from '../../src/kt/predict';
import { deserializeDkt, loadTfjsModel, saveTfjsModel, serializeDkt, TfjsModelJson } from '../../src/kt/tfjs-format';
import type { StudentSequence } from '../../src/kt/types';
import { randomWindows } from './helpers';

function model(numItems: number): DktModel {
  const m = createDkt(dktConfig({ numSkills: 5, numItems, hidden: 8, seed: 21 }));
  const layout = dktLayout(m.config);
  const rng = new Rng(6);
  // Non-zero biases and item parameters so every weight shows up in the predictions.
  for (const group of ['bias', 'outBias', 'itemScale', 'itemBias'] as const) {
    const view = paramView(layout, m.params, group);
    for (let j = 0; j < view.length; j++) view[j] += rng.normal() * 0.5;
  }
  return m;
}

/** Every skill's P(correct) for the next answer (for its next item), after each answer but the last. */
function jejakPredictions(m: DktModel, seq: StudentSequence): number[][] {
  const predictor = new DktPredictor(m, { kernels: 'js' });
  const state = predictor.initialState();
  const out: number[][] = [];
  for (let t = 0; t + 1 < seq.correct.length; t++) {
    predictor.step(state, seq.skills[t], seq.items?.[t], seq.correct[t]);
    const next = seq.items?.[t + 1];
    out.push(Array.from({ length: m.config.numSkills }, (_, k) => predictor.predictItem(state, k, next)));
  }
  return out;
}

async function tfjsPredictions(dir: string, seq: StudentSequence, numSkills: number): Promise<number[][]> {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as TfjsModelJson;
  const bin = readFileSync(join(dir, json.weightsManifest[0].paths[0]));
  const handler: tf.io.IOHandler = {
    load: async () => ({
      modelTopology: json.modelTopology as unknown as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: json.weightsManifest[0].weights,
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    }),
  };
  const loaded = await tf.loadLayersModel(handler);
  const T = seq.correct.length - 1;
  const onehot = new Float32Array(T * 2 * numSkills);
  for (let t = 0; t < T; t++) onehot[t * 2 * numSkills + seq.skills[t] + (seq.correct[t] ? numSkills : 0)] = 1;
  const inputs: tf.Tensor[] = [tf.tensor3d(onehot, [1, T, 2 * numSkills])];
  if (seq.items) {
    inputs.push(tf.tensor2d(Array.from(seq.items.subarray(0, T)), [1, T]), tf.tensor2d(Array.from(seq.items.subarray(1, T + 1)), [1, T]));
  }
  const y = loaded.predict(inputs) as tf.Tensor;
  const values = (await y.array()) as number[][][];
  tf.dispose([y, ...inputs]);
  loaded.dispose();
  return values[0];
}

describe('kt TF.js layers format', function () {
  this.timeout(20000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jejak-tfjs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const numItems of [0, 7]) {
    const kind = numItems ? 'item-aware' : 'skill-only';

    it(`save → load gives the same weights, metadata and predictions (${kind}, folder and single blob)`, () => {
      const m = model(numItems);
      const meta = { skillIds: ['a', 'b', 'c', 'd', 'e'], metrics: { validAuc: 0.8 }, engine: 'jejak-wasm' };
      saveTfjsModel(dir, m, meta);
      const fromDir = loadTfjsModel(dir);
      const fromBlob = deserializeDkt(serializeDkt(m, meta));
      const [seq] = randomWindows(new Rng(4), [12], 5, numItems);
      const expected = jejakPredictions(m, seq);
      for (const saved of [fromDir, fromBlob]) {
        expect(saved.model.config).to.deep.equal(m.config);
        expect(Buffer.from(saved.model.params.buffer).equals(Buffer.from(m.params.buffer))).to.equal(true);
        expect(saved.meta).to.deep.equal(meta);
        expect(jejakPredictions(saved.model, seq)).to.deep.equal(expected);
      }
    });

    it(`TF.js loads the saved model and predicts what Jejak predicts (${kind}, within 1e-5)`, async () => {
      const m = model(numItems);
      saveTfjsModel(dir, m);
      const [seq] = randomWindows(new Rng(11), [15], 5, numItems);
      const ours = jejakPredictions(m, seq);
      const theirs = await tfjsPredictions(dir, seq, 5);
      expect(theirs.length).to.equal(ours.length);
      for (let t = 0; t < ours.length; t++) for (let k = 0; k < 5; k++) expect(theirs[t][k]).to.be.closeTo(ours[t][k], 1e-5);
    });
  }

  it('rejects a blob that is not a model, and weights of the wrong size', () => {
    expect(() => deserializeDkt(Buffer.from('nope, not a model'))).to.throw(/magic/);
    const blob = serializeDkt(model(0));
    expect(() => deserializeDkt(blob.subarray(0, blob.length - 4))).to.throw(/bytes/);
  });
});
