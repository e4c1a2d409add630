import { expect } from 'chai';
import { mulberry32 } from '../../src/random';
import { gradeResponse, loadItem, MAX_TEXT_RESPONSE, type Item } from '../../src/content/item';
import { wildcardMatch, type StepMeter } from '../../src/content/wildcard';
import { readCsv } from '../../src/content/import/csv';
import { texSpans } from '../../src/content/richtext';

/** The definition itself, by dynamic programming: pattern[i..] matches text[j..]. */
function reference(pattern: string, text: string): boolean {
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * (text.length + 1) + j;
    let v = memo.get(key);
    if (v !== undefined) return v;
    if (i === pattern.length) v = j === text.length;
    else if (pattern[i] === '*') v = go(i + 1, j) || (j < text.length && go(i, j + 1));
    else v = j < text.length && pattern[i] === text[j] && go(i + 1, j + 1);
    memo.set(key, v);
    return v;
  };
  return go(0, 0);
}

function shortAnswer(pattern: string): Item {
  const body = {
    v: 1, kind: 'shortanswer', languages: ['en'], stem: { en: '<p>?</p>' }, hints: [], caseSensitive: false,
    answers: [{ match: 'wildcard', text: pattern, correct: true }],
  };
  return loadItem({ id: 1, bank_id: 1, code: 'sa', kind: 'shortanswer', body: JSON.stringify(body) });
}

describe('wildcard answers: linear matching', () => {
  it('agrees with the definition on 20,000 random small patterns and answers', () => {
    const r = mulberry32(13);
    const word = (max: number, alphabet: string) => Array.from({ length: Math.floor(r() * (max + 1)) }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');
    let matches = 0;
    for (let n = 0; n < 20_000; n++) {
      const pattern = word(7, 'ab**');
      const text = word(9, 'ab');
      const expected = reference(pattern, text);
      matches += expected ? 1 : 0;
      expect(wildcardMatch(pattern, text), `${JSON.stringify(pattern)} ~ ${JSON.stringify(text)}`).to.equal(expected);
    }
    // Both outcomes were exercised.
    expect(matches).to.be.within(1000, 19_000);
  });

  it('grades the pathological pattern against long answers correctly, within (n + 2) × m comparisons', () => {
    for (const pattern of ['*a*a*a*a*b', '*a*a*a*a*a*a*a*a*a*a*b', `*${'a*'.repeat(60)}b`]) {
      const item = shortAnswer(pattern);
      for (const text of ['a'.repeat(MAX_TEXT_RESPONSE), `${'a'.repeat(MAX_TEXT_RESPONSE - 1)}b`, 'ab'.repeat(MAX_TEXT_RESPONSE / 2)]) {
        const meter: StepMeter = { steps: 0 };
        const matched = wildcardMatch(pattern, text, meter);
        expect(matched, `${pattern} ~ ${text.slice(0, 20)}…`).to.equal(reference(pattern, text));
        expect(meter.steps).to.be.at.most((text.length + 2) * pattern.length);
        expect(gradeResponse(item, { kind: 'shortanswer', text }).correct).to.equal(matched);
      }
    }
  });

  it('does not grade a response longer than a student may type', () => {
    const item = shortAnswer('*');
    expect(gradeResponse(item, { kind: 'shortanswer', text: 'x'.repeat(MAX_TEXT_RESPONSE) }).correct).to.equal(true);
    expect(gradeResponse(item, { kind: 'shortanswer', text: 'x'.repeat(MAX_TEXT_RESPONSE + 1) }).correct).to.equal(false);
  });
});

describe('TeX in text: found in one pass', () => {
  it('finds the same fragments as the lazy regular expression it replaced, on 20,000 random texts', () => {
    const lazy = /\\\(([\s\S]+?)\\\)|\\\[([\s\S]+?)\\\]|\$\$([\s\S]+?)\$\$/g;
    const r = mulberry32(7);
    const tokens = ['\\(', '\\)', '\\[', '\\]', '$$', '$', '\\', '(', 'x', ' '];
    for (let n = 0; n < 20_000; n++) {
      const text = Array.from({ length: Math.floor(r() * 12) }, () => tokens[Math.floor(r() * tokens.length)]).join('');
      const expected = [...text.matchAll(lazy)].map((m) => [m.index, m.index + m[0].length, m[1] ?? m[2] ?? m[3], m[1] === undefined]);
      expect(texSpans(text).map((s) => [s.start, s.end, s.tex, s.display]), JSON.stringify(text)).to.deep.equal(expected);
    }
  });

  it('reads a text of 100,000 unclosed openers (the lazy expression rescanned the rest from each)', () => {
    expect(texSpans('\\('.repeat(50_000) + '\\['.repeat(50_000))).to.deep.equal([]);
  });
});

describe('import: bounded work on hostile files', () => {
  it('refuses an accepted answer longer than a student may type, and a text longer than the limit', async () => {
    const b = await readCsv(`skill,kind,stem,answer\nA,shortanswer,Long?,${'*a'.repeat(MAX_TEXT_RESPONSE + 1)}\nA,shortanswer,${'x'.repeat(20_001)},ok\nA,shortanswer,Fine?,*a*\n`, 'en');
    expect(b.report.filter((l) => l.outcome === 'refused').map((l) => [l.line, l.key])).to.deep.equal([[2, 'answer_too_long'], [3, 'text_too_long']]);
    expect(b.items.length).to.equal(1);
  });

  it('reads a cell of many quotes, and 3,000 rows with one repeated code, making each code unique', async () => {
    // Checking the whole cell at every quote took 34 s here (quadratic); the row is read, then refused for its length.
    const quotes = await readCsv(`skill,kind,stem,answer\nA,shortanswer,x${'"'.repeat(200_000)},ok\n`, 'en');
    expect(quotes.report.map((l) => [l.line, l.key])).to.deep.equal([[2, 'text_too_long']]);
    const rows = Array.from({ length: 3000 }, () => 'same,A,truefalse,Benar?,true').join('\n');
    const same = await readCsv(`code,skill,kind,stem,answer\n${rows}\n`, 'id');
    expect(new Set(same.items.map((i) => i.code)).size).to.equal(3000);
    expect(same.items.at(-1)!.code).to.equal('same-3000');
  });
});
