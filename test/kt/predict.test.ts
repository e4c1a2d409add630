import { expect } from 'chai';
import { createDkt, dktConfig, DktModel, dktLayout, paramView } from '../../src/kt/dkt';
import { createKernels } from '../../src/kt/engine';
import { DktEngine, packWindows } from '../../src/kt/engine/lstm';
import { Rng } from '../../src/kt/engine/random';
import { DktPredictor, DktState } from '../../src/kt/predict';
import { randomWindows } from './helpers';

function itemAwareModel(): DktModel {
  const model = createDkt(dktConfig({ numSkills: 12, numItems: 30, hidden: 24, seed: 9 }));
  const layout = dktLayout(model.config);
  const rng = new Rng(2);
  for (const group of ['itemScale', 'itemBias'] as const) {
    const view = paramView(layout, model.params, group);
    for (let j = 0; j < view.length; j++) view[j] = rng.normal() * 0.5;
  }
  return model;
}

const copyState = (s: DktState): DktState => ({ h: Float32Array.from(s.h), c: Float32Array.from(s.c) });

describe('kt predict (serving)', () => {
  for (const kernels of ['wasm', 'js'] as const) {
    it(`one step per answer gives the training engine's predictions for the whole history (${kernels}, within 1e-5)`, () => {
      const model = itemAwareModel();
      const [history] = randomWindows(new Rng(5), [150], model.config.numSkills, model.config.numItems);
      const batch = packWindows([history], model.config.numSkills, true);
      const engine = new DktEngine(createKernels(kernels), model.config, { maxRows: batch.rows, maxSequences: 1, training: false });
      engine.setParams(model.params);
      const full = engine.forward(batch);
      const predictor = new DktPredictor(model, { kernels });
      let state = predictor.initialState();
      for (let t = 0; t + 1 < history.correct.length; t++) {
        // The state goes through storage between answers, as in the server.
        state = copyState(predictor.step(state, history.skills[t], history.items?.[t], history.correct[t]));
        const p = predictor.predictItem(state, history.skills[t + 1], history.items?.[t + 1]);
        expect(p).to.be.closeTo(full[t], 1e-5);
      }
    });
  }

  it('incremental steps equal stateFromHistory (recompute) within 1e-5', () => {
    const model = itemAwareModel();
    const predictor = new DktPredictor(model);
    const [history] = randomWindows(new Rng(8), [60], model.config.numSkills, model.config.numItems);
    let state = predictor.initialState();
    for (let t = 0; t < 60; t++) {
      state = copyState(predictor.step(state, history.skills[t], history.items?.[t], history.correct[t]));
      if (t % 20 === 19) {
        const prefix = { skills: history.skills.subarray(0, t + 1), items: history.items?.subarray(0, t + 1), correct: history.correct.subarray(0, t + 1) };
        const recomputed = predictor.stateFromHistory(prefix);
        for (let j = 0; j < state.h.length; j++) {
          expect(state.h[j]).to.be.closeTo(recomputed.h[j], 1e-5);
          expect(state.c[j]).to.be.closeTo(recomputed.c[j], 1e-5);
        }
      }
    }
  });

  it('batch calls equal one-student calls, across the batch split', () => {
    const model = itemAwareModel();
    const single = new DktPredictor(model);
    const batched = new DktPredictor(model, { maxBatch: 4 });
    const rng = new Rng(3);
    const students = 7;
    const states = Array.from({ length: students }, () => batched.initialState());
    const solo = Array.from({ length: students }, () => single.initialState());
    for (let t = 0; t < 5; t++) {
      const skills = states.map(() => rng.int(model.config.numSkills));
      const items = states.map(() => rng.int(model.config.numItems));
      const correct = states.map(() => (rng.next() < 0.5 ? 1 : 0));
      batched.stepBatch(states, skills, items, correct);
      solo.forEach((s, i) => single.step(s, skills[i], items[i], correct[i]));
    }
    const all = batched.predictBatch(states);
    solo.forEach((s, i) => {
      const one = single.predictAll(s);
      for (let k = 0; k < one.length; k++) expect(all[i][k]).to.be.closeTo(one[k], 1e-6);
      // An item-aware model's skill-level prediction is its item prediction with no item.
      expect(single.predictItem(s, 3)).to.be.closeTo(one[3], 1e-6);
    });
  });

  it('batch calls split across a worker thread equal one-student calls (within 1e-5)', async () => {
    const model = itemAwareModel();
    // 70 students: one call of 64 (two chunks, shared with the worker) and one of 6 (this thread alone).
    const threaded = new DktPredictor(model, { maxBatch: 64, threads: 2 });
    const single = new DktPredictor(model);
    try {
      await threaded.ready();
      const rng = new Rng(4);
      const states = Array.from({ length: 70 }, () => threaded.initialState());
      const solo = states.map(() => single.initialState());
      for (let t = 0; t < 4; t++) {
        const skills = states.map(() => rng.int(model.config.numSkills));
        const items = states.map(() => rng.int(model.config.numItems));
        const correct = states.map(() => rng.int(2));
        threaded.stepBatch(states, skills, items, correct);
        solo.forEach((s, i) => single.step(s, skills[i], items[i], correct[i]));
      }
      const all = threaded.predictBatch(states);
      solo.forEach((s, i) => {
        for (let j = 0; j < s.h.length; j++) expect(states[i].h[j]).to.be.closeTo(s.h[j], 1e-5);
        const one = single.predictAll(s);
        for (let k = 0; k < one.length; k++) expect(all[i][k]).to.be.closeTo(one[k], 1e-5);
      });
    } finally {
      await threaded.close();
    }
  });

  it('rejects ids outside the model', () => {
    const predictor = new DktPredictor(itemAwareModel());
    const state = predictor.initialState();
    expect(() => predictor.step(state, 12, undefined, 1)).to.throw(RangeError);
    expect(() => predictor.step(state, 0, 30, 1)).to.throw(RangeError);
    expect(() => predictor.predictItem(state, -1)).to.throw(RangeError);
  });
});
