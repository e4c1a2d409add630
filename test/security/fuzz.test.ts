import { expect } from 'chai';
import { runFuzz } from './fuzz';

describe('fuzz: random and mutated input finds no 500, no hang, no crash', function () {
  this.timeout(180_000);

  it('login parameters, id_tokens, bank files and practice posts (short run; `npm run fuzz` for a long one)', async () => {
    const report = await runFuzz({ seed: Number(process.env.FUZZ_SEED ?? 7), perTarget: Number(process.env.FUZZ_PER_TARGET ?? 40) });
    for (const t of report.targets) {
      expect(t.inputs, t.target).to.be.greaterThan(0);
      expect(t.problems, t.target).to.deep.equal([]);
    }
    // The inputs really reached the checks: refusals, not only one kind of answer.
    expect(Object.keys(report.targets[1].outcomes)).to.include('400');
    // Practice posts got past the session, origin and CSRF checks to the answer handling itself.
    expect(Object.keys(report.targets[3].outcomes).filter((s) => s !== '403')).to.not.deep.equal([]);
    expect(report.healthyAfter).to.equal(true);
  });
});
