import { expect } from 'chai';
import {
  gradeResponse, InvalidItem, InvalidResponse, loadItem, parseResponse, readNumber, renderHint, renderItemForm, renderSolution,
  type Item, type ItemBody,
} from '../../src/content/item';
import { renderRichText, sanitizeHtml, spokenTex, stylesheetsFor, texErrors } from '../../src/content/richtext';

const bi = (id: string, en: string) => ({ id: `<p>${id}</p>`, en: `<p>${en}</p>` });
let nextId = 1;
/** An item from a body without the defaults (loadItem validates it). */
function item(body: { kind: ItemBody['kind'] } & Record<string, unknown>): Item {
  const full = { v: 1, languages: ['id', 'en'], hints: [], ...body };
  return loadItem({ id: nextId++, bank_id: 7, code: 'x', kind: body.kind, body: JSON.stringify(full) });
}

const mc = item({
  kind: 'multichoice', stem: bi('Berapa \\(\\frac{1}{2}+\\frac{1}{4}\\)?', 'What is \\(\\frac{1}{2}+\\frac{1}{4}\\)?'),
  choices: [
    { key: 'a', text: { id: '3/4', en: '3/4' }, correct: true },
    { key: 'b', text: { id: '2/6', en: '2/6' }, correct: false, feedback: bi('Penyebut tidak dijumlahkan.', 'Do not add the denominators.') },
  ],
  hints: [bi('Samakan penyebut.', 'Use a common denominator.'), bi('Perempat.', 'Quarters.')],
  solution: bi('\\(\\frac{2}{4}+\\frac{1}{4}=\\frac{3}{4}\\)', '\\(\\frac{2}{4}+\\frac{1}{4}=\\frac{3}{4}\\)'),
  generalFeedback: bi('Umum.', 'General.'),
});
const mr = item({
  kind: 'multiresponse', stem: bi('Senilai setengah?', 'Equal to a half?'),
  choices: [
    { key: 'a', text: { id: '2/4', en: '2/4' }, correct: true },
    { key: 'b', text: { id: '3/6', en: '3/6' }, correct: true },
    { key: 'c', text: { id: '2/3', en: '2/3' }, correct: false, feedback: bi('Bukan.', 'No.') },
  ],
});
const tf = item({ kind: 'truefalse', stem: bi('1/3 > 1/4', '1/3 > 1/4'), answer: true, feedbackFalse: bi('Potongan lebih besar.', 'Bigger pieces.') });
const num = item({
  kind: 'numeric', stem: bi('Berapa cm?', 'How many cm?'),
  answers: [{ value: 150, tolerance: 0.5, correct: true }, { value: 15, tolerance: 0, correct: false, feedback: bi('1 m = 100 cm.', '1 m = 100 cm.') }],
  units: [{ name: 'cm', multiplier: 1 }, { name: 'm', multiplier: 0.01 }], unitRequired: true,
});
const money = item({ kind: 'numeric', stem: bi('Rupiah?', 'Rupiah?'), answers: [{ value: 1500, tolerance: 0, correct: true }], units: [{ name: 'Rp', multiplier: 1 }], unitRequired: false });
const frac = item({ kind: 'numeric', stem: bi('3/8?', '3/8?'), answers: [{ value: 0.375, tolerance: 0, correct: true }], units: [], unitRequired: false });
const sa = item({
  kind: 'shortanswer', stem: bi('Sederhanakan 4/8', 'Simplify 4/8'), caseSensitive: false,
  answers: [{ match: 'exact', text: '1/2', correct: true }, { match: 'wildcard', text: 'setengah*', correct: true }, { match: 'exact', text: '2/4', correct: false, feedback: bi('Lagi.', 'Further.') }],
});

describe('items: loading', () => {
  it('rejects a body that is not JSON, does not match the schema, or misses a language', () => {
    const row = (body: string, kind = 'truefalse') => ({ id: 1, bank_id: 1, code: 'c', kind, body });
    expect(() => loadItem(row('{'))).to.throw(InvalidItem, /not JSON/);
    expect(() => loadItem(row(JSON.stringify({ v: 1, kind: 'truefalse', languages: ['id'], stem: { id: 'x' } })))).to.throw(InvalidItem, /answer/);
    expect(() => loadItem(row(JSON.stringify({ v: 1, kind: 'truefalse', languages: ['id', 'en'], stem: { id: 'x' }, answer: true })))).to.throw(InvalidItem, /stem: no "en" text/);
    expect(() => loadItem(row(JSON.stringify({ v: 1, kind: 'truefalse', languages: ['id'], stem: { id: 'x' }, answer: true }), 'numeric'))).to.throw(InvalidItem, /kind column/);
    expect(() => loadItem(row(JSON.stringify({ v: 1, kind: 'multichoice', languages: ['id'], stem: { id: 'x' }, choices: [{ key: 'a', text: { id: 'a' }, correct: true }, { key: 'b', text: { id: 'b' }, correct: true }] }), 'multichoice')))
      .to.throw(InvalidItem, /exactly one correct/);
  });
});

describe('items: grading each kind', () => {
  it('multichoice: the correct choice, and a wrong one with its feedback plus the general feedback', () => {
    expect(gradeResponse(mc, { kind: 'multichoice', choice: 'a' }).correct).to.equal(true);
    const wrong = gradeResponse(mc, { kind: 'multichoice', choice: 'b' }, { locale: 'en' });
    expect(wrong.correct).to.equal(false);
    expect(wrong.feedbackHtml).to.contain('Do not add the denominators.').and.contain('General.');
    expect(gradeResponse(mc, { kind: 'multichoice', choice: 'b' }, { locale: 'id' }).feedbackHtml).to.contain('Penyebut tidak dijumlahkan.');
  });

  it('multiresponse: exactly the correct set', () => {
    expect(gradeResponse(mr, { kind: 'multiresponse', choices: ['a', 'b'] }).correct).to.equal(true);
    expect(gradeResponse(mr, { kind: 'multiresponse', choices: ['a'] }).correct).to.equal(false);
    const extra = gradeResponse(mr, { kind: 'multiresponse', choices: ['a', 'b', 'c'] }, { locale: 'en' });
    expect(extra.correct).to.equal(false);
    expect(extra.feedbackHtml).to.contain('No.');
  });

  it('truefalse', () => {
    expect(gradeResponse(tf, { kind: 'truefalse', value: true }).correct).to.equal(true);
    const wrong = gradeResponse(tf, { kind: 'truefalse', value: false }, { locale: 'en' });
    expect(wrong).to.deep.equal({ correct: false, feedbackHtml: '<div class="feedback"><p>Bigger pieces.</p></div>' });
  });

  it('numeric: tolerance, units with multipliers, a required unit, a known wrong answer', () => {
    const g = (text: string) => gradeResponse(num, { kind: 'numeric', text }, { locale: 'en' });
    expect(g('150 cm').correct).to.equal(true);
    expect(g('150,4 cm').correct).to.equal(true);
    expect(g('1,5 m').correct).to.equal(true);
    expect(g('1.5 m').correct).to.equal(true);
    expect(g('151 cm').correct).to.equal(false);
    expect(g('150').feedbackHtml).to.contain('Write the unit as well.');
    expect(g('150').correct).to.equal(false);
    expect(g('150 kg').feedbackHtml).to.contain('&#34;kg&#34; is not a unit');
    expect(g('15 cm').feedbackHtml).to.contain('1 m = 100 cm.');
  });

  it('numeric: Indonesian and English number writing, fractions and mixed numbers', () => {
    const g = (it: Item, text: string) => gradeResponse(it, { kind: 'numeric', text }).correct;
    expect(g(money, 'Rp 1.500')).to.equal(true);
    expect(g(money, '1,500')).to.equal(true);
    expect(g(money, '1500 Rp')).to.equal(true);
    expect(g(money, '1.5')).to.equal(false);
    expect(g(frac, '3/8')).to.equal(true);
    expect(g(frac, '0,375')).to.equal(true);
    expect(g(frac, '0.38')).to.equal(false);
    expect(readNumber('1 1/2')?.values).to.deep.equal([1.5]);
    expect(readNumber('1.234,5')?.values).to.deep.equal([1234.5]);
    expect(readNumber('−2')?.values).to.deep.equal([-2]);
    expect(readNumber('1/0')).to.equal(undefined);
    expect(readNumber('abc')).to.equal(undefined);
  });

  it('shortanswer: exact ignoring case and spaces, wildcard, a known wrong answer', () => {
    const g = (text: string) => gradeResponse(sa, { kind: 'shortanswer', text }, { locale: 'en' });
    expect(g(' 1/2 ').correct).to.equal(true);
    expect(g('Setengah  bagian').correct).to.equal(true);
    expect(g('2/4').feedbackHtml).to.contain('Further.');
    expect(g('1/3').correct).to.equal(false);
  });
});

describe('items: the form and what is posted', () => {
  it('multichoice renders a fieldset with a legend and a label per radio, and keeps a previous answer', () => {
    const html = renderItemForm(mc, 'en', { namePrefix: 'q1-', response: { kind: 'multichoice', choice: 'b' } });
    expect(html).to.match(/<fieldset class="item-answer" aria-describedby="q1-stem"><legend>Choose one answer<\/legend>/);
    expect(html).to.contain('<input type="radio" id="q1-choice-a" name="q1-answer" value="a" required> <label for="q1-choice-a">3/4</label>');
    expect(html).to.contain('id="q1-choice-b" name="q1-answer" value="b" checked');
    expect(html).to.contain('class="katex"');
    expect(renderItemForm(mc, 'id')).to.contain('Pilih satu jawaban').and.contain('Berapa');
  });

  it('multiresponse uses checkboxes; truefalse two radios; numeric a decimal input with its unit help; shortanswer a text input', () => {
    expect(renderItemForm(mr, 'en')).to.contain('type="checkbox"').and.contain('Choose all correct answers');
    expect(renderItemForm(tf, 'id')).to.contain('<label for="tf-true">Benar</label>').and.contain('<label for="tf-false">Salah</label>');
    const n = renderItemForm(num, 'en', { response: { kind: 'numeric', text: '1<5' } });
    expect(n).to.contain('inputmode="decimal"').and.contain('<label for="answer">Your answer</label>').and.contain('Write the unit too: cm, m');
    expect(n).to.contain('value="1&#60;5"');
    expect(renderItemForm(sa, 'en')).to.contain('spellcheck="false"').and.not.contain('inputmode');
  });

  it('an item without the viewer\'s language is shown in its own, marked with lang', () => {
    const only = item({ kind: 'truefalse', languages: ['id'], stem: { id: '<p>Benar?</p>' }, answer: true });
    expect(renderItemForm(only, 'en')).to.match(/^<div class="item" lang="id">/);
  });

  it('parses posted answers and refuses missing or malformed ones with a message in the student\'s language', () => {
    expect(parseResponse(mc, { answer: 'a' })).to.deep.equal({ kind: 'multichoice', choice: 'a' });
    expect(parseResponse(mr, { 'p-answer': ['b', 'a', 'a'] }, { namePrefix: 'p-' })).to.deep.equal({ kind: 'multiresponse', choices: ['a', 'b'] });
    expect(parseResponse(tf, { answer: 'false' })).to.deep.equal({ kind: 'truefalse', value: false });
    expect(parseResponse(num, { answer: ' 150 cm ' })).to.deep.equal({ kind: 'numeric', text: '150 cm' });
    const refused = (it: Item, body: Record<string, unknown>) => {
      try {
        parseResponse(it, body);
      } catch (e) {
        expect(e).to.be.instanceOf(InvalidResponse);
        return (e as InvalidResponse).problem;
      }
      throw new Error('accepted');
    };
    expect(refused(mc, {})).to.equal('choose_one');
    expect(refused(mc, { answer: 'z' })).to.equal('unknown_choice');
    expect(refused(mc, { answer: { a: 1 } })).to.equal('choose_one');
    expect(refused(mr, {})).to.equal('choose_some');
    expect(refused(tf, { answer: 'maybe' })).to.equal('choose_one');
    expect(refused(num, { answer: 'dua' })).to.equal('enter_number');
    expect(refused(num, { answer: '1'.repeat(61) })).to.equal('too_long');
    expect(refused(sa, { answer: '   ' })).to.equal('enter_text');
    expect(new InvalidResponse('enter_number').userMessage('id')).to.contain('Tulis sebuah bilangan');
  });

  it('hints one by one, the worked solution with math', () => {
    expect(renderHint(mc, 0, 'en')).to.equal('<div class="hint"><p>Use a common denominator.</p></div>');
    expect(renderHint(mc, 1, 'id')).to.contain('Perempat.');
    expect(renderHint(mc, 2, 'en')).to.equal('');
    expect(renderSolution(mc, 'en')).to.contain('class="katex"');
    expect(renderSolution(tf, 'en')).to.equal('');
  });
});

describe('rich text: sanitising and math', () => {
  const payloads = [
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '<img src="javascript:alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<svg onload=alert(1)><circle/></svg>',
    '<iframe src="https://evil.example"></iframe>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<div onclick="alert(1)" onmouseover="alert(1)">x</div>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<object data="x"></object><embed src="x">',
    '<form action="https://evil.example"><input name=a></form>',
    '<<script>script>alert(1)<</script>/script>',
    '<style>body{display:none}</style>',
    '<img src="https://tracker.example/pixel.gif">',
  ];
  for (const payload of payloads) {
    it(`neutralises ${payload}`, () => {
      const out = sanitizeHtml(payload);
      expect(out).to.not.match(/<script|<svg|<iframe|<object|<embed|<form|<style|<math|<input/i);
      expect(out).to.not.match(/\son\w+=/i);
      expect(out).to.not.match(/javascript:/i);
      expect(out).to.not.match(/style=/i);
      expect(out).to.not.match(/https:\/\/tracker/);
    });
  }

  // Relative URLs would resolve under the viewer's session (/s/SID/…): their browser would send that session's requests.
  const relative = [
    '<img src="../../../teacher/activities/1/students/s1" alt="x">',
    '<img src="asset:../../../teacher/activities/1/students/s1" alt="x">',
    '<img src="asset:%2e%2e" alt="x">',
    '<img src="asset:.%2E/x" alt="x">',
    '<img src="asset:a%2Fb.png" alt="x">',
    '<a href="../../teacher/activities/1/students/s1/reset">x</a>',
    '<a href="/s/other/teacher">x</a>',
    '<a href="asset:kue.png">x</a>',
  ];
  for (const payload of relative) {
    it(`drops ${payload} at import and at render`, () => {
      const out = sanitizeHtml(payload);
      expect(out).to.not.match(/\s(src|href)=/);
      // A bank stored before the sanitiser refused them is cleaned when shown.
      expect(renderRichText(payload, '/s/S/content/assets/3')).to.not.match(/\s(src|href)=/);
    });
  }

  it('keeps ordinary markup, links (with rel) and the bank\'s own images', () => {
    expect(sanitizeHtml('<p><strong>Tebal</strong> <a href="https://kemdikbud.go.id">x</a> <img src="asset:kue.png" alt="kue"></p>'))
      .to.equal('<p><strong>Tebal</strong> <a href="https://kemdikbud.go.id" rel="noopener noreferrer">x</a> <img src="asset:kue.png" alt="kue" /></p>');
  });

  it('typesets TeX in text only, points images at the session\'s asset route, and asks for KaTeX CSS only with math', () => {
    const html = renderRichText('<p>\\(x&lt;1\\) and $$\\frac{1}{2}$$ cost $5 <img src="asset:a.png" alt="\\(y\\)"></p>', '/s/S/content/assets/3');
    expect(html).to.contain('<span class="katex">').and.contain('katex-display').and.contain('cost $5');
    expect(html).to.contain('src="/s/S/content/assets/3/a.png" alt="\\(y\\)"');
    expect(html).to.contain('<mo>&lt;</mo>');
    expect(renderRichText('<img src="asset:a.png" alt="a">', undefined)).to.equal('<img alt="a">');
    expect(stylesheetsFor(html)).to.deep.equal(['/static/katex/katex.min.css']);
    expect(stylesheetsFor('<p>plain</p>')).to.deep.equal([]);
  });

  it('reports TeX that KaTeX cannot read', () => {
    expect(texErrors('\\(\\frac{1}{2}\\)')).to.deep.equal([]);
    expect(texErrors('ok \\(\\frac{1}{\\)')[0]).to.match(/^\\\(\\frac\{1\}\{\\\): /);
  });
});

describe('math for every reader', () => {
  it('gives typeset TeX a plain spoken name', () => {
    expect(spokenTex('\\frac{6}{4}')).to.equal('6/4');
    expect(spokenTex('2\\times\\frac{1}{2} \\le 1')).to.equal('2×1/2 ≤ 1');
    expect(spokenTex('\\left( \\text{Rp}\\,1.500 \\right)')).to.equal('( Rp 1.500 )');
    expect(spokenTex('25\\%')).to.equal('25%');
    expect(renderRichText('<p>\\(\\frac{3}{4}\\)</p>', undefined)).to.match(/^<p><span class="math" role="img" aria-label="3\/4"><span class="katex">/);
  });
});
