import { expect } from 'chai';
import { createDkt, dktConfig, DktConfig, dktLayout, PARAM_GROUPS, paramView } from '../../src/kt/dkt';
import { loadDatasetDir, windows } from '../../src/kt/data';
import { packedSize, type FloatArray, type Kernels } from '../../src/kt/engine/kernels';
import { createJsKernels } from '../../src/kt/engine/kernels-js';
import { createWasmKernels } from '../../src/kt/engine/kernels-wasm';
import { DktEngine, PackedBatch, packWindows } from '../../src/kt/engine/lstm';
import { Rng } from '../../src/kt/engine/random';
import type { KtDataset } from '../../src/kt/types';
import { testDatasetFolder, type TestDatasetName } from './fixtures/datasets';

/** max |a − b| relative to max |b|. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).to.equal(b.length);
  let err = 0;
  let scale = 0;
  for (let j = 0; j < a.length; j++) {
    err = Math.max(err, Math.abs(a[j] - b[j]));
    scale = Math.max(scale, Math.abs(b[j]));
  }
  return scale === 0 ? err : err / scale;
}

/** The first `count` windows (≥ 2 answers) of a dataset, ragged as they come. */
function realBatch(ds: KtDataset, count: number): PackedBatch {
  const ws = ds.sequences.flatMap((s) => windows(s, 200)).filter((w) => w.correct.length >= 2).slice(0, count);
  return packWindows(ws, ds.numSkills, ds.numItems > 0);
}

function runStep(kernels: Kernels, config: DktConfig, params: Float32Array, batch: PackedBatch) {
  const engine = new DktEngine(kernels, config, { maxRows: batch.rows, maxSequences: batch.sequences, training: true });
  engine.setParams(params);
  const probs = Float32Array.from(engine.forward(batch));
  const loss = engine.lossAndGradients(batch, 99);
  const grads = Float32Array.from(engine.gradients);
  engine.adamStep();
  return { probs, loss, grads, after: engine.getParams() };
}

function compareKernels(config: DktConfig, batch: PackedBatch): void {
  // Non-zero item parameters, so the item paths carry signal.
  const model = createDkt(config);
  const layout = dktLayout(config);
  const rng = new Rng(4);
  for (const group of ['itemScale', 'itemBias'] as const) {
    const view = paramView(layout, model.params, group);
    for (let j = 0; j < view.length; j++) view[j] = rng.normal() * 0.5;
  }
  const js = runStep(createJsKernels('f32'), config, model.params, batch);
  const wasm = runStep(createWasmKernels(), config, model.params, batch);
  expect(relativeError(wasm.probs, js.probs), 'predictions').to.be.lessThan(1e-5);
  expect(Math.abs(wasm.loss - js.loss) / js.loss, 'loss').to.be.lessThan(1e-5);
  for (const group of PARAM_GROUPS) {
    const a = paramView(layout, wasm.grads, group);
    const b = paramView(layout, js.grads, group);
    if (b.length === 0) continue;
    expect(relativeError(a, b), `gradient ${group}`).to.be.lessThan(2e-5);
  }
  expect(relativeError(wasm.after as FloatArray, js.after as FloatArray), 'parameters after Adam').to.be.lessThan(1e-5);
}

describe('kt engine: WASM kernels agree with the JS kernels', function () {
  this.timeout(20000);

  /** Fold 1's train split of a dataset folder: the public one when ../shared/datasets has it, else its simulated stand-in. */
  function trainSplit(name: TestDatasetName): KtDataset {
    const folder = testDatasetFolder(name);
    try {
      return loadDatasetDir(folder.dir, { fold: 1 }).train;
    } finally {
      folder.remove();
    }
  }

  it('on a skill-only batch read from a dataset folder (assist2009, or its simulated stand-in; hidden 64, dropout)', () => {
    const train = trainSplit('dkvmn_assist2009_updated');
    compareKernels(dktConfig({ numSkills: train.numSkills, hidden: 64, dropout: 0.2 }), realBatch(train, 24));
  });

  it('on an item-aware batch with a hidden size that is not a multiple of 4 (assist2009 pid, or its simulated stand-in; hidden 30)', () => {
    const train = trainSplit('akt_assist2009_pid');
    compareKernels(dktConfig({ numSkills: train.numSkills, numItems: train.numItems, hidden: 30, dropout: 0.2 }), realBatch(train, 12));
  });

  it('gemm, plain and transposed, with ragged sizes and depth beyond one block', () => {
    for (const [m, n, k, transA] of [[7, 13, 300, false], [9, 21, 517, true], [13, 19, 300, false], [1, 3, 2, false], [4, 8, 256, true]] as const) {
      const results = [createJsKernels('f32'), createWasmKernels()].map((kernels) => {
        const { f } = kernels.allocate({ a: m * k, b: k * n, c: m * n }, {});
        const rng = new Rng(m * 1000 + n);
        for (const arr of [f.a, f.b, f.c]) for (let j = 0; j < arr.length; j++) arr[j] = rng.normal();
        kernels.gemm(m, n, k, f.a, transA ? m : k, transA, f.b, n, f.c, n);
        return Float32Array.from(f.c);
      });
      expect(relativeError(results[1], results[0]), `gemm ${m}×${n}×${k}`).to.be.lessThan(1e-5);
    }
  });

  it('gemm on packed panels gives exactly what gemm gives, in both kernels, with ragged sizes and depth beyond one block', () => {
    for (const [m, n, k] of [[7, 13, 300], [32, 800, 200], [5, 8, 517], [1, 3, 2], [9, 24, 256]] as const) {
      for (const kernels of [createJsKernels('f32'), createWasmKernels()]) {
        const { f } = kernels.allocate({ a: m * k, b: k * n, packed: packedSize(k, n), plain: m * n, fromPacked: m * n }, {});
        const rng = new Rng(m * 1000 + n);
        for (const arr of [f.a, f.b, f.plain]) for (let j = 0; j < arr.length; j++) arr[j] = rng.normal();
        f.fromPacked.set(f.plain);
        kernels.gemm(m, n, k, f.a, k, false, f.b, n, f.plain, n);
        kernels.packPanels(k, n, f.b, n, f.packed);
        kernels.gemmPacked(m, n, k, f.a, k, f.packed, f.fromPacked, n);
        expect(Array.from(f.fromPacked), `${kernels.name} gemmPacked ${m}×${n}×${k}`).to.deep.equal(Array.from(f.plain));
      }
    }
  });

  it('sigmoid agrees with 1 / (1 + e^−x), in the vector body, the tail and far out', () => {
    const xs = [-100, -20, -3.5, -1e-3, 0, 1e-3, 0.7, 5, 20, 100, 2.25];
    const kernels = createWasmKernels();
    const { f } = kernels.allocate({ x: xs.length }, {});
    f.x.set(xs);
    kernels.sigmoid(xs.length, f.x);
    xs.forEach((x, j) => expect(f.x[j], `sigmoid(${x})`).to.be.closeTo(1 / (1 + Math.exp(-x)), 1e-7));
  });

  it('dropout masks are identical and drop about the requested share', () => {
    const masks = [createJsKernels('f32'), createWasmKernels()].map((kernels) => {
      const { f } = kernels.allocate({ mask: 10003 }, {});
      kernels.dropoutMask(10003, 777, 0.3, f.mask);
      return Float32Array.from(f.mask);
    });
    expect(Array.from(masks[1])).to.deep.equal(Array.from(masks[0]));
    const dropped = masks[0].filter((v) => v === 0).length / masks[0].length;
    expect(dropped).to.be.closeTo(0.3, 0.02);
  });
});
