import { expect } from 'chai';
import { createDkt, dktConfig, DktConfig, dktLayout, PARAM_GROUPS, paramView } from '../../src/kt/dkt';
import { createJsKernels } from '../../src/kt/engine/kernels-js';
import { DktEngine, packWindows } from '../../src/kt/engine/lstm';
import { Rng } from '../../src/kt/engine/random';
import { ServingKernel, servingRows, servingRowsBytes } from '../../src/kt/engine/serving';
import { chunkBlocks, CHUNK_ROWS, ServingPool, SPIN_MS, Spinner } from '../../src/kt/engine/serving-pool';
import { randomWindows } from './helpers';

/** A model with every parameter non-zero, so every gradient path is exercised. */
function randomParams(config: DktConfig, seed: number): Float64Array {
  const rng = new Rng(seed);
  const params = new Float64Array(dktLayout(config).total);
  for (let j = 0; j < params.length; j++) params[j] = (2 * rng.next() - 1) * 0.8;
  return params;
}

describe('kt engine: gradients', () => {
  for (const numItems of [0, 4]) {
    it(`match central finite differences in float64 (${numItems ? 'item-aware' : 'skill-only'}, ragged lengths incl. one step)`, () => {
      const config = dktConfig({ numSkills: 3, numItems, hidden: 5, dropout: 0.3, seed: 1 });
      // Lengths in answers: 2 = a single LSTM step.
      const windows = randomWindows(new Rng(7), [6, 2, 4, 2, 5], config.numSkills, numItems);
      const batch = packWindows(windows, config.numSkills, numItems > 0);
      const engine = new DktEngine(createJsKernels('f64'), config, { maxRows: batch.rows, maxSequences: batch.sequences, training: true });
      const params = randomParams(config, 3);
      const dropoutKey = 12345;
      // A first pass with other weights leaves its buffers behind: the gradient must not depend on them.
      engine.setParams(randomParams(config, 4));
      engine.lossAndGradients(batch, dropoutKey);
      engine.setParams(params);
      engine.lossAndGradients(batch, dropoutKey);
      const analytic = Float64Array.from(engine.gradients);
      const layout = dktLayout(config);
      const eps = 1e-6;
      for (const group of PARAM_GROUPS) {
        const view = paramView(layout, params, group);
        if (view.length === 0) continue;
        const grad = paramView(layout, analytic, group);
        let maxErr = 0;
        let maxAbs = 0;
        for (let j = 0; j < view.length; j++) {
          const keep = view[j];
          view[j] = keep + eps;
          engine.setParams(params);
          const up = engine.lossAndGradients(batch, dropoutKey);
          view[j] = keep - eps;
          engine.setParams(params);
          const down = engine.lossAndGradients(batch, dropoutKey);
          view[j] = keep;
          const numeric = (up - down) / (2 * eps);
          maxErr = Math.max(maxErr, Math.abs(numeric - grad[j]));
          maxAbs = Math.max(maxAbs, Math.abs(numeric));
        }
        expect(maxAbs, `${group} gradient is not all zero`).to.be.greaterThan(1e-6);
        expect(maxErr / maxAbs, `${group} relative error`).to.be.lessThan(1e-6);
      }
    });
  }

  it('initialises seeded and orthogonal like Keras', () => {
    const config = dktConfig({ numSkills: 4, hidden: 6, seed: 5 });
    const a = createDkt(config);
    const b = createDkt(config);
    expect(Array.from(a.params)).to.deep.equal(Array.from(b.params));
    const u = paramView(dktLayout(config), a.params, 'recurrent');
    const cols = 4 * config.hidden;
    for (let r = 0; r < config.hidden; r++) {
      for (let q = 0; q < config.hidden; q++) {
        let dot = 0;
        for (let j = 0; j < cols; j++) dot += u[r * cols + j] * u[q * cols + j];
        expect(dot).to.be.closeTo(r === q ? 1 : 0, 1e-5);
      }
    }
    expect(createDkt({ ...config, seed: 6 }).params[0]).to.not.equal(a.params[0]);
  });
});

describe('kt engine: serving pool', () => {
  it('the workers take chunks of a call, and every row comes out as this thread alone computes it', async () => {
    const model = createDkt(dktConfig({ numSkills: 20, hidden: 64, seed: 5 }));
    const n = 8 * CHUNK_ROWS;
    const pool = new ServingPool(model, n, 1, new ServingKernel(model, CHUNK_ROWS));
    const alone = servingRows(new ArrayBuffer(servingRowsBytes(n, 64, 20)), n, 64, 20);
    const kernel = new ServingKernel(model, n);
    const rng = new Rng(6);
    try {
      await pool.ready;
      // A worker that wakes late leaves all chunks to this thread: call until it has taken some.
      for (let call = 0; call < 50 && pool.workerRows === 0; call++) {
        for (let r = 0; r < n; r++) pool.rows.idx[r] = alone.idx[r] = rng.int(40);
        for (let j = 0; j < n * 64; j++) {
          pool.rows.h[j] = alone.h[j] = rng.normal() * 0.3;
          pool.rows.c[j] = alone.c[j] = rng.normal();
        }
        pool.run('step', n, false);
        kernel.run('step', alone, 0, n, false);
        expect(Array.from(pool.rows.hNext)).to.deep.equal(Array.from(alone.hNext));
        expect(Array.from(pool.rows.cNext)).to.deep.equal(Array.from(alone.cNext));
        pool.run('probabilities', n, false);
        kernel.run('probabilities', alone, 0, n, false);
        expect(Array.from(pool.rows.probs)).to.deep.equal(Array.from(alone.probs));
      }
      expect(pool.workerRows).to.be.greaterThan(0);
    } finally {
      await pool.close();
    }
  });

  it('claims chunks that shrink towards the end of a call, within the kernel\'s rows, and cover every block once', () => {
    for (const threads of [2, 3, 8]) {
      for (const blocks of [1, 2, 3, 7, 64, 65, 1000]) {
        const sizes: number[] = [];
        for (let left = blocks; left > 0; left -= sizes[sizes.length - 1]) sizes.push(chunkBlocks(left, threads));
        expect(sizes.reduce((a, b) => a + b, 0)).to.equal(blocks);
        for (const size of sizes) expect(size).to.be.within(1, CHUNK_ROWS / 4);
        for (let j = 1; j < sizes.length; j++) expect(sizes[j]).to.be.at.most(sizes[j - 1]);
      }
    }
    // The last chunks of a class are small, so that the threads end close together.
    expect(chunkBlocks(4, 2)).to.equal(2);
  });

  it('polls while polling catches the other thread, and backs off when it does not', () => {
    const spinner = new Spinner();
    /** Budgets of the next `count` waits, each of which polls in vain. */
    const missing = (count: number) =>
      Array.from({ length: count }, () => {
        const budget = spinner.budget();
        if (budget > 0) spinner.polled(false);
        return budget > 0 ? 1 : 0;
      }).join('');
    expect(spinner.budget()).to.equal(SPIN_MS);
    spinner.polled(true);
    // One miss is forgiven; then 1, 2, 4 … waits are slept through between tries.
    expect(missing(12)).to.equal('110100100001');
    // A poll that catches the other thread restores polling at once.
    while (spinner.budget() === 0);
    spinner.polled(true);
    expect(missing(2)).to.equal('11');
    // Rare calls (every poll misses) end up polling once per 64 waits.
    missing(1000);
    expect(missing(130).split('').filter((x) => x === '1').length).to.be.within(2, 3);
  });

  it('a call of a row count that is not a multiple of the block runs right, and after close() on this thread alone', async () => {
    const model = createDkt(dktConfig({ numSkills: 7, hidden: 10, seed: 2 }));
    const n = 3 * CHUNK_ROWS + 3;
    const pool = new ServingPool(model, n, 1, new ServingKernel(model, CHUNK_ROWS));
    const alone = servingRows(new ArrayBuffer(servingRowsBytes(n, 10, 7)), n, 10, 7);
    const kernel = new ServingKernel(model, n);
    const rng = new Rng(9);
    const call = () => {
      for (let r = 0; r < n; r++) pool.rows.idx[r] = alone.idx[r] = rng.int(14);
      for (let j = 0; j < n * 10; j++) pool.rows.h[j] = alone.h[j] = rng.normal();
      pool.wake();
      pool.run('step', n, false);
      kernel.run('step', alone, 0, n, false);
      expect(Array.from(pool.rows.hNext)).to.deep.equal(Array.from(alone.hNext));
      pool.run('probabilities', n, false);
      kernel.run('probabilities', alone, 0, n, false);
      expect(Array.from(pool.rows.probs)).to.deep.equal(Array.from(alone.probs));
    };
    try {
      await pool.ready;
      for (let j = 0; j < 5; j++) call();
    } finally {
      await pool.close();
    }
    const before = pool.workerRows;
    call();
    expect(pool.workerRows).to.equal(before);
  });
});
