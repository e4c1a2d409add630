import { expect } from 'chai';
import { sampleBank } from '../../src/content/sample';
import { allText } from '../../src/content/import/model';
import { texErrors } from '../../src/content/richtext';
import { gradeResponse, loadItem, renderSolution, type Item, type ItemResponse } from '../../src/content/item';

/** A response that must be graded correct, and one that must be graded wrong, for an item. */
function answers(item: Item): { right: ItemResponse; wrong: ItemResponse } {
  switch (item.kind) {
    case 'multichoice':
      return { right: { kind: 'multichoice', choice: item.choices.find((c) => c.correct)!.key }, wrong: { kind: 'multichoice', choice: item.choices.find((c) => !c.correct)!.key } };
    case 'multiresponse':
      return { right: { kind: 'multiresponse', choices: item.choices.filter((c) => c.correct).map((c) => c.key) }, wrong: { kind: 'multiresponse', choices: item.choices.map((c) => c.key) } };
    case 'truefalse':
      return { right: { kind: 'truefalse', value: item.answer }, wrong: { kind: 'truefalse', value: !item.answer } };
    case 'numeric': {
      const v = item.answers.find((a) => a.correct)!.value;
      const wrong = item.answers.find((a) => !a.correct)?.value ?? v + 1;
      return { right: { kind: 'numeric', text: String(v).replace('.', ',') }, wrong: { kind: 'numeric', text: String(wrong) } };
    }
    case 'shortanswer':
      return { right: { kind: 'shortanswer', text: item.answers.find((a) => a.correct)!.text }, wrong: { kind: 'shortanswer', text: 'tidak tahu' } };
  }
}

describe('the sample bank', () => {
  const bank = sampleBank();
  const items = bank.items.map((it, i) => loadItem({ id: i + 1, bank_id: 1, code: it.code, kind: it.body.kind, body: JSON.stringify(it.body) }));

  it('has at least 12 skills, 200 items, every kind, and Kurikulum Merdeka outcomes on every skill', () => {
    expect(bank.skills.length).to.be.at.least(12);
    expect(items.length).to.be.at.least(200);
    expect(new Set(items.map((i) => i.kind))).to.have.all.keys('multichoice', 'multiresponse', 'truefalse', 'numeric', 'shortanswer');
    for (const s of bank.skills) {
      expect(s.name, s.code).to.have.all.keys('id', 'en');
      const [c] = s.details.curriculum as { framework: string; phase: string; outcome: { id: string; en: string } }[];
      expect(c!.framework).to.equal('Kurikulum Merdeka');
      expect(['C', 'D']).to.include(c!.phase);
      expect(c!.outcome.id.length && c!.outcome.en.length, s.code).to.be.above(20);
      expect(bank.items.filter((i) => i.skills.includes(s.code)).length, s.code).to.be.at.least(10);
    }
  });

  it('has prerequisites that name its own skills and form no cycle', () => {
    const codes = new Set(bank.skills.map((s) => s.code));
    const edges = new Map(bank.skills.map((s) => [s.code, s.prerequisites]));
    expect([...edges.values()].flat().every((p) => codes.has(p))).to.equal(true);
    expect([...edges.values()].flat().length).to.be.at.least(12);
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (code: string): void => {
      if (state.get(code) === 'done') return;
      if (state.get(code) === 'visiting') throw new Error(`cycle through ${code}`);
      state.set(code, 'visiting');
      for (const p of edges.get(code)!) visit(p);
      state.set(code, 'done');
    };
    for (const c of codes) visit(c);
  });

  it('writes every item in both languages, with hints, a worked solution and distinct questions', () => {
    expect(new Set(items.map((i) => i.stem.id)).size).to.equal(items.length);
    for (const item of items) {
      expect(item.languages, item.code).to.deep.equal(['id', 'en']);
      expect(item.hints.length, item.code).to.be.at.least(1);
      expect(renderSolution(item, 'en'), item.code).to.contain('class="solution"');
      expect(item.stem.id, item.code).to.not.equal(item.stem.en);
      if (item.kind === 'multichoice') {
        expect(item.choices.length, item.code).to.be.at.least(2);
        for (const c of item.choices.filter((x) => !x.correct)) expect(c.feedback, `${item.code} ${c.key}`).to.have.all.keys('id', 'en');
      }
      expect(allText(item).flatMap(texErrors), item.code).to.deep.equal([]);
    }
  });

  it('grades its own correct answer correct and a wrong one wrong, for every item', () => {
    for (const item of items) {
      const { right, wrong } = answers(item);
      expect(gradeResponse(item, right).correct, `${item.code} right: ${JSON.stringify(right)}`).to.equal(true);
      expect(gradeResponse(item, wrong).correct, `${item.code} wrong: ${JSON.stringify(wrong)}`).to.equal(false);
    }
  });

  it('is the same on every install', () => {
    expect(JSON.stringify(sampleBank().items)).to.equal(JSON.stringify(bank.items));
  });
});
