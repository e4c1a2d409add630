import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { readMoodleXml } from '../../src/content/import/moodleXml';
import { readGift } from '../../src/content/import/gift';
import { readCsv } from '../../src/content/import/csv';
import { detectFormat } from '../../src/content/import';
import type { ParsedBank, ReportLine } from '../../src/content/import/model';
import { importBank } from '../../src/content/commands/importBank';
import { gradeResponse, loadItem } from '../../src/content/item';
import { connect, type Connection } from '../../src/db/connect';
import { migrateToLatest } from '../../src/db/migrate';
import { translate } from '../../src/web/i18n';
import { testDialects, type TestDatabase } from '../support/db';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, 'fixtures', name), 'utf8');

/** Four true/false questions: tagged hard (with a skill tag), tagged in Indonesian, tagged with an unknown value, untagged. */
const DIFFICULTY_XML = `<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="truefalse">
    <name><text>hard one</text></name>
    <questiontext format="plain_text"><text>1/3 &gt; 1/2</text></questiontext>
    <answer fraction="0"><text>true</text></answer>
    <answer fraction="100"><text>false</text></answer>
    <tags><tag><text>skill:Halves</text></tag><tag><text>difficulty:hard</text></tag></tags>
  </question>
  <question type="truefalse"><name><text>easy one</text></name><questiontext format="plain_text"><text>1/2 = 2/4</text></questiontext><answer fraction="100"><text>true</text></answer><answer fraction="0"><text>false</text></answer><tags><tag><text>Difficulty: Mudah</text></tag></tags></question>
  <question type="truefalse"><name><text>odd one</text></name><questiontext format="plain_text"><text>3/4 &gt; 1/2</text></questiontext><answer fraction="100"><text>true</text></answer><answer fraction="0"><text>false</text></answer><tags><tag><text>difficulty:extreme</text></tag></tags></question>
  <question type="truefalse"><name><text>plain one</text></name><questiontext format="plain_text"><text>1/4 &gt; 1/2</text></questiontext><answer fraction="0"><text>true</text></answer><answer fraction="100"><text>false</text></answer></question>
</quiz>`;
const refused = (b: ParsedBank) => b.report.filter((r) => r.outcome === 'refused').map((r) => [r.line, r.key]);
const took = (b: ParsedBank) => b.report.filter((r) => r.outcome === 'took').map((r) => r.line);

describe('import: Moodle XML', () => {
  it('takes every supported kind, categories and skill tags as skills, feedback, hints, images; sanitises', async () => {
    const b = await readMoodleXml(fixture('good.xml'), 'id');
    expect(refused(b)).to.deep.equal([]);
    expect(took(b)).to.deep.equal([6, 19, 27, 33, 45]);
    expect(b.skills.map((s) => s.name.id)).to.deep.equal(['Menjumlahkan pecahan', 'Pecahan senilai', 'Menyederhanakan']);
    const [mc, mr, tf, num, sa] = b.items;
    expect(mc!.skills).to.deep.equal(['menjumlahkan-pecahan', 'pecahan-senilai']);
    expect(mc!.body.kind).to.equal('multichoice');
    expect(mc!.body.stem.id).to.equal('<p>Berapa \\(\\frac{1}{2} + \\frac{1}{4}\\)? <img src="asset:kue.png" alt="kue" /></p>');
    expect(mc!.body.hints).to.deep.equal([{ id: 'Ubah setengah menjadi perempat.' }]);
    expect(mc!.body.generalFeedback).to.deep.equal({ id: 'Samakan penyebut.' });
    if (mc!.body.kind !== 'multichoice') throw new Error();
    expect(mc!.body.choices.map((c) => [c.text.id, c.correct, c.feedback?.id])).to.deep.equal([
      ['\\(\\frac{3}{4}\\)', true, 'Bagus!'], ['\\(\\frac{2}{6}\\)', false, 'Penyebut tidak dijumlahkan.'], ['1', false, undefined]]);
    expect(mr!.body.kind).to.equal('multiresponse');
    expect(tf!.body).to.include({ kind: 'truefalse', answer: true });
    expect(tf!.body.stem.id).to.equal('1/3 &#62; 1/4 &#60;b&#62;tebal&#60;/b&#62;');
    expect(num!.body).to.deep.include({ kind: 'numeric', units: [{ name: 'cm', multiplier: 1 }, { name: 'm', multiplier: 0.01 }], unitRequired: false });
    expect(sa!.skills).to.deep.equal(['menyederhanakan']);
    expect(b.assets.map((a) => [a.name, a.mediaType])).to.deep.equal([['kue.png', 'image/png']]);
    const numItem = loadItem({ id: 1, bank_id: 1, code: 'n', kind: 'numeric', body: JSON.stringify(num!.body) });
    expect(gradeResponse(numItem, { kind: 'numeric', text: '1,5 m' }).correct).to.equal(true);
    const saItem = loadItem({ id: 2, bank_id: 1, code: 's', kind: 'shortanswer', body: JSON.stringify(sa!.body) });
    expect(gradeResponse(saItem, { kind: 'shortanswer', text: 'Setengah saja' }).correct).to.equal(true);
  });

  it('reads a difficulty:… tag beside skill:… tags; an unknown value is a note and the question is still taken', async () => {
    const b = await readMoodleXml(DIFFICULTY_XML, 'en');
    expect(refused(b)).to.deep.equal([]);
    expect(b.items.map((i) => [i.code, i.difficulty, i.skills])).to.deep.equal([
      ['hard-one', 'hard', ['halves']], ['easy-one', 'easy', ['general']], ['odd-one', null, ['general']], ['plain-one', null, ['general']]]);
    expect(b.report.filter((r) => r.outcome === 'note')).to.deep.equal([
      { line: 11, outcome: 'note', key: 'bad_difficulty', vars: { name: 'odd one', value: 'extreme' } }]);
  });

  it('refuses malformed XML at the line where it breaks', async () => {
    const b = await readMoodleXml(fixture('broken.xml'), 'id');
    expect(refused(b)).to.deep.equal([[8, 'xml_malformed']]);
    expect(b.items).to.have.length(0);
  });

  it('refuses unsupported types, non-numbers and bad TeX, each at its line, and keeps the good question', async () => {
    const b = await readMoodleXml(fixture('unsupported.xml'), 'en');
    expect(refused(b)).to.deep.equal([[8, 'unsupported_type'], [15, 'bad_number'], [17, 'bad_tex']]);
    expect(took(b)).to.deep.equal([3]);
  });
});

describe('import: GIFT', () => {
  it('takes multiple choice, true/false, multiple answer, numeric (tolerance and range), missing word short answer', async () => {
    const b = await readGift(fixture('good.gift'), 'id');
    expect(refused(b)).to.deep.equal([]);
    expect(took(b)).to.deep.equal([4, 11, 13, 20, 22, 24]);
    expect(b.items.map((i) => i.body.kind)).to.deep.equal(['multichoice', 'truefalse', 'multiresponse', 'numeric', 'numeric', 'shortanswer']);
    expect(b.skills.map((s) => s.name.id)).to.deep.equal(['Membandingkan']);
    const [mc, tf, , num, range, sa] = b.items.map((i) => i.body);
    expect(mc!.stem.id).to.contain('\\(\\frac{2}{3}\\)');
    expect(mc!.generalFeedback).to.deep.equal({ id: 'Samakan penyebutnya.' });
    if (mc!.kind !== 'multichoice' || tf!.kind !== 'truefalse' || num!.kind !== 'numeric' || range!.kind !== 'numeric' || sa!.kind !== 'shortanswer') throw new Error('kinds');
    expect(mc!.choices[1]!.feedback).to.deep.equal({ id: 'Penyebut lebih kecil belum tentu pecahan lebih kecil.' });
    // Wrong-answer feedback comes first in GIFT.
    expect(tf).to.deep.include({ answer: true, feedbackTrue: { id: 'Betul.' }, feedbackFalse: { id: 'Coba lagi: 1 dibagi 2.' } });
    expect(num!.answers[0]).to.deep.include({ value: 0.75, tolerance: 0.001, correct: true });
    expect(range!.answers[0]).to.deep.include({ value: 1.5, tolerance: 0.5 });
    expect(sa!.stem.id).to.equal('Setengah dari 10 adalah _____ buah.');
    expect(sa!.answers.map((a) => a.text)).to.deep.equal(['5', 'lima']);
  });

  it('refuses matching questions, unclosed braces and bad numbers at their lines', async () => {
    const b = await readGift(fixture('broken.gift'), 'id');
    expect(refused(b)).to.deep.equal([[4, 'unsupported_type'], [9, 'gift_unclosed'], [13, 'bad_number']]);
    expect(took(b)).to.deep.equal([2]);
  });
});

describe('import: CSV', () => {
  it('takes bilingual rows with `;` separators, lists, correct-choice marks, per-choice feedback, prerequisites', async () => {
    const b = await readCsv(fixture('good.csv'), 'id');
    expect(refused(b)).to.deep.equal([]);
    expect(took(b)).to.deep.equal([2, 3, 4, 5]);
    expect(b.skills.map((s) => [s.code, s.prerequisites])).to.deep.equal([['pecahan-dari-banyaknya', ['pecahan-bagian']], ['pecahan-bagian', []]]);
    const [num, mc, tf, sa] = b.items.map((i) => i.body);
    expect(num).to.deep.include({ languages: ['id', 'en'], units: [{ name: 'g', multiplier: 1 }] });
    expect(num!.hints).to.deep.equal([{ id: '<p>1 kg = 1000 g</p>', en: '<p>1 kg = 1000 g</p>' }, { id: '<p>3/4 × 1000</p>', en: '<p>3/4 × 1000</p>' }]);
    if (mc!.kind !== 'multichoice' || tf!.kind !== 'truefalse' || sa!.kind !== 'shortanswer') throw new Error('kinds');
    expect(mc!.choices.map((c) => [c.text.en, c.correct, c.feedback?.en])).to.deep.equal([['3/8', true, undefined], ['8/3', false, '<p>Upside down.</p>'], ['5/8', false, '<p>That is what is left.</p>']]);
    expect(tf!.answer).to.equal(true);
    expect(sa!.answers.map((a) => a.text)).to.deep.equal(['1/2', '0,5']);
  });

  it('refuses bad rows at the line they start on (a quoted cell may span lines)', async () => {
    const b = await readCsv(fixture('broken.csv'), 'id');
    expect(refused(b)).to.deep.equal([[3, 'csv_bad_kind'], [5, 'csv_no_skill'], [6, 'bad_number'], [7, 'csv_bad_truefalse']]);
    expect(took(b)).to.deep.equal([2]);
  });

  it('reads a difficulty column in English or Indonesian, any case; an unknown value is a note and the item is still taken', async () => {
    const b = await readCsv(fixture('difficulty.csv'), 'id');
    expect(refused(b)).to.deep.equal([]);
    expect(took(b)).to.deep.equal([2, 3, 4, 5, 6]);
    expect(b.items.map((i) => [i.code, i.difficulty])).to.deep.equal([
      ['mudah-1', 'easy'], ['sulit-1', 'hard'], ['sedang-1', 'medium'], ['polos-1', null], ['aneh-1', null]]);
    expect(b.report.filter((r) => r.outcome === 'note')).to.deep.equal([
      { line: 6, outcome: 'note', key: 'bad_difficulty', vars: { name: 'aneh-1', value: 'sangat sulit' } }]);
    expect(translate('en', 'content.import.msg.bad_difficulty', { name: 'aneh-1', value: 'sangat sulit' }))
      .to.equal('aneh-1: the difficulty "sangat sulit" is not easy, medium or hard (mudah, sedang, sulit); the question is imported without a difficulty.');
    expect(translate('id', 'content.import.msg.bad_difficulty', { name: 'aneh-1', value: 'sangat sulit' })).to.contain('"sangat sulit"');
  });

  it('refuses an unknown column, a missing one, and an unclosed quote', async () => {
    expect(refused(await readCsv('skill,kind,colour\n', 'id'))).to.deep.equal([[1, 'csv_unknown_column'], [1, 'csv_missing_column']]);
    expect(refused(await readCsv('skill,kind,stem\nA,truefalse,"never closed\n\n', 'id'))).to.deep.equal([[2, 'csv_unclosed_quote']]);
  });
});

describe('import: format detection', () => {
  it('from the extension, else from the content', async () => {
    expect(detectFormat('x.XML', '')).to.equal('moodle-xml');
    expect(detectFormat('x.txt', '<?xml version="1.0"?><quiz/>')).to.equal('moodle-xml');
    expect(detectFormat('x.txt', 'Q {T}')).to.equal('gift');
    expect(detectFormat('x.csv', '')).to.equal('csv');
    expect(detectFormat('x.pdf', '%PDF')).to.equal(undefined);
  });
});

for (const dialect of testDialects()) {
  describe(`importBank on ${dialect.name}: all or nothing`, function () {
    this.timeout(30_000);
    let tdb: TestDatabase;
    let conn: Connection;
    // The audit log is append-only (migration 0007): events are counted from each test's start.
    let auditBase = 0;
    const counts = async () => {
      const n = async (t: 'bank' | 'skill' | 'item' | 'item_skill' | 'bank_asset' | 'audit_event') =>
        Number((await conn.db.selectFrom(t).select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      return { bank: await n('bank'), skill: await n('skill'), item: await n('item'), itemSkill: await n('item_skill'), asset: await n('bank_asset'), audit: await n('audit_event') - auditBase };
    };
    const empty = { bank: 0, skill: 0, item: 0, itemSkill: 0, asset: 0, audit: 0 };

    before(async () => {
      tdb = await dialect.create();
      conn = await connect(tdb.url, process.cwd());
      await migrateToLatest(conn);
    });
    after(async () => {
      await conn?.close();
      await tdb?.drop();
    });
    beforeEach(async () => {
      await conn.db.deleteFrom('bank').execute();
      auditBase = 0;
      auditBase = (await counts()).audit;
    });

    const props = (parsed: ParsedBank) => ({ db: conn.db, tenantId: null, contextId: null, actor: 'cli', title: 'Uji', source: 'moodle-xml', parsed });

    it('writes a good file whole: bank, skills, items and their skills, images, one audit event', async () => {
      const result = await importBank(props(await readMoodleXml(fixture('good.xml'), 'id')));
      expect(result.ok).to.equal(true);
      expect(await counts()).to.deep.equal({ bank: 1, skill: 3, item: 5, itemSkill: 6, asset: 1, audit: 1 });
      const again = await importBank(props(await readMoodleXml(fixture('good.xml'), 'id')));
      if (!again.ok || !result.ok) throw new Error('refused');
      expect([result.code, again.code]).to.deep.equal(['uji', 'uji-2']);
    });

    it('stores each item\'s difficulty tag from CSV and Moodle XML (null when untagged); the column holds only easy, medium, hard', async () => {
      const tags = async (parsed: ParsedBank) => {
        const result = await importBank(props(parsed));
        if (!result.ok) throw new Error('refused');
        return (await conn.db.selectFrom('item').select(['code', 'difficulty']).where('bank_id', '=', result.bankId).orderBy('position').execute())
          .map((r) => [r.code, r.difficulty]);
      };
      expect(await tags(await readCsv(fixture('difficulty.csv'), 'id'))).to.deep.equal([
        ['mudah-1', 'easy'], ['sulit-1', 'hard'], ['sedang-1', 'medium'], ['polos-1', null], ['aneh-1', null]]);
      expect(await tags(await readMoodleXml(DIFFICULTY_XML, 'en'))).to.deep.equal([
        ['hard-one', 'hard'], ['easy-one', 'easy'], ['odd-one', null], ['plain-one', null]]);
      let refusedValue = false;
      try {
        await conn.db.updateTable('item').set({ difficulty: 'extreme' as 'hard' }).where('code', '=', 'plain-one').execute();
      } catch {
        refusedValue = true;
      }
      expect(refusedValue, 'the CHECK constraint refuses other values').to.equal(true);
    });

    it('writes nothing for a file with refusals', async () => {
      const result = await importBank(props(await readMoodleXml(fixture('unsupported.xml'), 'id')));
      expect(result.ok).to.equal(false);
      expect(result.report.filter((r: ReportLine) => r.outcome === 'refused')).to.have.length(3);
      expect(await counts()).to.deep.equal(empty);
    });

    it('writes only what was taken when asked to skip refusals', async () => {
      const result = await importBank({ ...props(await readMoodleXml(fixture('unsupported.xml'), 'id')), skipRefused: true });
      expect(result.ok).to.equal(true);
      expect(await counts()).to.include({ bank: 1, item: 1 });
    });

    it('rolls back everything when a write fails half-way', async () => {
      const parsed = await readMoodleXml(fixture('good.xml'), 'id');
      // An item naming a skill that does not exist fails at the item_skill insert, after bank, skills and items.
      parsed.items[4]!.skills.push('no-such-skill');
      let failed = false;
      try {
        await importBank(props(parsed));
      } catch {
        failed = true;
      }
      expect(failed).to.equal(true);
      expect(await counts()).to.deep.equal(empty);
    });
  });
}
