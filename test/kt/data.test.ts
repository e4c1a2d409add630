import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  DataFormatError,
  datasetSize,
  detectFormat,
  loadDatasetDir,
  parseFourLine,
  parsePykt,
  parseThreeLine,
  sequencesFromAttempts,
  sharedDatasetDir,
  sharedDir,
  windows,
} from '../../src/kt/data';
import { KtDataset, StudentSequence } from '../../src/kt/types';
import { skipForMissing } from '../support/pending';
import { simulatedDataset, writeSimulatedFolder } from './fixtures/datasets';

let tmp: string;

/** Writes `files` (name -> lines) into a new folder `name` under the test's tmp dir. */
function writeFolder(name: string, files: Record<string, string[]>): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, lines] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), lines.join('\n') + '\n');
  return dir;
}

/** Asserts that `fn` throws a DataFormatError for `file` at `line` whose message matches `problem`. */
function expectFormatError(fn: () => unknown, file: string, line: number, problem: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'an error').to.be.instanceOf(DataFormatError);
  const err = caught as DataFormatError;
  expect(err.message).to.contain(file);
  expect(err.message).to.contain(`line ${line}:`);
  expect(err.line).to.equal(line);
  expect(err.problem).to.match(problem);
}

const ids = (a: ArrayLike<number> | undefined): number[] => Array.from(a ?? []);

describe('kt/data readers', () => {
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jejak-data-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe('3-line', () => {
    it('reads 1-based ids into 0-based ones, with a length or index,user_id header', () => {
      const seqs = parseThreeLine(['3', '1,2,2', '0,1,1', '7,u42', '5,', '1,'].join('\n'), 'f.csv', 1);
      expect(seqs).to.have.length(2);
      expect(ids(seqs[0].skills)).to.deep.equal([0, 1, 1]);
      expect(ids(seqs[0].correct)).to.deep.equal([0, 1, 1]);
      expect(seqs[0].student).to.equal('1');
      expect(seqs[1].student).to.equal('u42');
      expect(ids(seqs[1].skills)).to.deep.equal([4]);
      expect(seqs[0].items).to.equal(undefined);
    });

    it('keeps 0-based ids and tolerates trailing commas (Piech, DKT+)', () => {
      const seqs = parseThreeLine(['2', '0,5,', '1,0,', '', ''].join('\n'), 'p.csv', 0);
      expect(ids(seqs[0].skills)).to.deep.equal([0, 5]);
      expect(ids(seqs[0].correct)).to.deep.equal([1, 0]);
    });

    const malformed: [string, string[], number, RegExp][] = [
      ['a header of three fields', ['2', '1,2', '0,1', '1,2,3', '1', '1'], 4, /header has 3 fields/],
      ['a non-numeric skill id', ['2', '1,x', '0,1'], 2, /field 2 \('x'\) is not a whole number/],
      ['a response that is not 0/1', ['3', '1,2,3', '0,2,1'], 3, /field 2 \('2'\) is not 0 or 1/],
      ['lines of different lengths', ['2', '1,2,3', '0,1'], 2, /skill ids: 3 entries but the responses on line 3 have 2/],
      ['a header length that disagrees', ['4', '1,2,3', '0,1,1'], 1, /header says 4 steps but the record has 3/],
      ['a truncated record', ['2', '1,2', '0,1', '2', '1,2'], 5, /truncated record.*starts at line 4.*missing responses/],
      ['an id below the 1-based range', ['2', '1,0', '0,1'], 2, /id 0 \(field 2\) is out of range for 1-based/],
      ['a negative id', ['2', '1,-3', '0,1'], 2, /id -3 .*out of range/],
      ['an empty field', ['3', '1,,2', '0,1,1'], 2, /field 2 is empty/],
      ['a blank line inside a record', ['2', '1,2', '', '0,1'], 3, /blank line inside the record that starts at line 1 \(expected responses\)/],
    ];
    for (const [what, lines, line, problem] of malformed) {
      it(`rejects ${what} with the file and line`, () => {
        expectFormatError(() => parseThreeLine(lines.join('\n'), '/data/bad_train1.csv', 1), '/data/bad_train1.csv', line, problem);
      });
    }
  });

  describe('4-line', () => {
    it('reads items and skills, 1-based', () => {
      const seqs = parseFourLine(['1,900', '10,11,10', '1,1,2', '1,0,1'].join('\n'), 'a.csv');
      expect(seqs[0].student).to.equal('900');
      expect(ids(seqs[0].items)).to.deep.equal([9, 10, 9]);
      expect(ids(seqs[0].skills)).to.deep.equal([0, 0, 1]);
      expect(ids(seqs[0].correct)).to.deep.equal([1, 0, 1]);
    });

    it('rejects an item line of another length, a bad response and a truncated record', () => {
      expectFormatError(() => parseFourLine(['1,900', '10,11', '1,1,2', '1,0,1'].join('\n'), 'a.csv'), 'a.csv', 2, /item ids: 2 entries/);
      expectFormatError(() => parseFourLine(['1,900', '10,11', '1,1', '1,5'].join('\n'), 'a.csv'), 'a.csv', 4, /not 0 or 1/);
      expectFormatError(() => parseFourLine(['1,900', '10,11', '1,1', '1,0', '2,901', '3'].join('\n'), 'a.csv'), 'a.csv', 6, /truncated.*missing skill ids, responses/);
    });
  });

  describe('pyKT CSV', () => {
    const header = 'fold,uid,concepts,responses,cidxs';
    it('reads quoted 0-based lists and the fold', () => {
      const rows = parsePykt([header, '-1,77,"0,3,3","1,0,1","0,1,2"'].join('\n'), 't.csv');
      expect(rows).to.have.length(1);
      expect(rows[0].fold).to.equal(-1);
      expect(rows[0].sequence.student).to.equal('77');
      expect(ids(rows[0].sequence.skills)).to.deep.equal([0, 3, 3]);
      expect(ids(rows[0].sequence.correct)).to.deep.equal([1, 0, 1]);
    });

    it('reads a questions column as items', () => {
      const rows = parsePykt(['fold,uid,questions,concepts,responses', '0,1,"4,5","0,1","1,1"'].join('\n'), 't.csv');
      expect(ids(rows[0].sequence.items)).to.deep.equal([4, 5]);
    });

    it('rejects a missing column, a wrong field count, mismatched lists, an unclosed quote', () => {
      expectFormatError(() => parsePykt(['fold,uid,concepts', '0,1,"1"'].join('\n'), 't.csv'), 't.csv', 1, /lacks column\(s\) responses/);
      expectFormatError(() => parsePykt([header, '0,1,"1","1","0"', '0,2,"1","1"'].join('\n'), 't.csv'), 't.csv', 3, /4 fields but the header has 5/);
      expectFormatError(() => parsePykt([header, '0,1,"1,2","1","0"'].join('\n'), 't.csv'), 't.csv', 2, /concepts: 2 entries but the responses/);
      expectFormatError(() => parsePykt([header, '0,1,"1,2,"1,1","0"'].join('\n'), 't.csv'), 't.csv', 2, /quoted field is not closed/);
      expectFormatError(() => parsePykt([header, 'x,1,"1","1","0"'].join('\n'), 't.csv'), 't.csv', 2, /fold 'x'/);
    });
  });

  describe('detectFormat', () => {
    it('tells pyKT, 4-line and 3-line apart', () => {
      expect(detectFormat('fold,uid,concepts,responses\n0,1,"1","1"\n')).to.equal('pykt');
      expect(detectFormat(['1,900', '10,11,12', '1,1,2', '1,0,1', '2,901', '13,14', '2,2', '0,0'].join('\n'))).to.equal('four-line');
      expect(detectFormat(['3', '1,2,2', '0,1,1', '2', '5,6', '1,1', '1', '4', '0'].join('\n'))).to.equal('three-line');
      // A 3-line file whose first record looks like the start of a 4-line one.
      expect(detectFormat(['1', '7', '1', '1', '82', '0', '2', '3,4', '1,0'].join('\n'))).to.equal('three-line');
    });
  });

  describe('loadDatasetDir', () => {
    it('finds the fold files and the fixed test file, shares the id spaces, 1-based by folder name', () => {
      const dir = writeFolder('dkvmn_tiny', {
        'tiny_train.csv': ['1', '1', '1'],
        'tiny_train1.csv': ['3', '1,2,3', '1,0,1', '2', '2,2', '0,1'],
        'tiny_train2.csv': ['1', '1', '0'],
        'tiny_valid1.csv': ['2', '3,1', '1,1'],
        'tiny_test.csv': ['2', '9,1', '0,1'],
      });
      const d = loadDatasetDir(dir, { fold: 1 });
      expect(d.format).to.equal('three-line');
      expect(d.base).to.equal(1);
      expect(d.files).to.deep.equal({ train: 'tiny_train1.csv', valid: 'tiny_valid1.csv', test: 'tiny_test.csv' });
      expect(datasetSize(d.train)).to.deep.equal({ students: 2, interactions: 5 });
      expect(datasetSize(d.valid)).to.deep.equal({ students: 1, interactions: 2 });
      for (const split of [d.train, d.valid, d.test]) expect(split).to.include({ numSkills: 9, numItems: 0 });
      expect(ids(d.test.sequences[0].skills)).to.deep.equal([8, 0]);
      expect(loadDatasetDir(dir, { fold: 2 }).files.train).to.equal('tiny_train2.csv');
    });

    it('uses numbered test files when there is no fixed one (AKT), with items', () => {
      const rec = (user: number, items: string, skills: string, resp: string) => [`${user},${user}`, items, skills, resp];
      const dir = writeFolder('akt_tiny_pid', {
        'x_train1.csv': [...rec(1, '1,2,3', '1,1,2', '1,0,1'), ...rec(2, '4,5', '2,1', '0,0')],
        'x_valid1.csv': rec(3, '2,2', '1,1', '1,1'),
        'x_test1.csv': rec(4, '7,1', '3,1', '0,1'),
        'x_test2.csv': rec(5, '1', '1', '1'),
      });
      const d = loadDatasetDir(dir);
      expect(d.format).to.equal('four-line');
      expect(d.files.test).to.equal('x_test1.csv');
      expect(d.test).to.include({ numSkills: 3, numItems: 7 });
      expect(ids(d.test.sequences[0].items)).to.deep.equal([6, 0]);
    });

    it('holds out a seeded 20% of train students when there is no valid file (Piech, 0-based)', () => {
      const lines: string[] = [];
      for (let s = 0; s < 10; s++) lines.push('2', `${s},0,`, '1,0,');
      const dir = writeFolder('piech_tiny', { 'builder_train.csv': lines, 'builder_test.csv': ['1', '0,', '1,'] });
      const a = loadDatasetDir(dir, { seed: 3 });
      const b = loadDatasetDir(dir, { seed: 3 });
      expect(a.base).to.equal(0);
      expect(a.files.valid).to.equal(null);
      expect(a.valid.sequences).to.have.length(2);
      expect(a.train.sequences).to.have.length(8);
      const students = (ds: KtDataset) => ds.sequences.map((s) => s.student);
      expect(students(a.valid)).to.deep.equal(students(b.valid));
      expect([...students(a.train), ...students(a.valid)].sort()).to.deep.equal(['1', '10', '2', '3', '4', '5', '6', '7', '8', '9']);
      expect(a.train.numSkills).to.equal(10);
      expect(() => loadDatasetDir(dir, { fold: 2 })).to.throw(/single train\/test split/);
    });

    it('detects the id base from the data when the folder name does not say', () => {
      const oneBased = writeFolder('mine_1', { 'a_train1.csv': ['1', '2', '1'], 'a_valid1.csv': ['1', '1', '0'], 'a_test.csv': ['1', '3', '1'] });
      const d1 = loadDatasetDir(oneBased);
      expect(d1.base).to.equal(1);
      expect(d1.test.numSkills).to.equal(3);
      const zeroBased = writeFolder('mine_0', { 'a_train1.csv': ['1', '0', '1'], 'a_valid1.csv': ['1', '1', '0'], 'a_test.csv': ['1', '3', '1'] });
      const d0 = loadDatasetDir(zeroBased);
      expect(d0.base).to.equal(0);
      expect(d0.test.numSkills).to.equal(4);
      expect(loadDatasetDir(zeroBased, { base: 0 }).base).to.equal(0);
    });

    it('takes pyKT fold k-1 of train_valid.csv as validation for fold k', () => {
      const rows = ['fold,uid,concepts,responses'];
      for (let u = 0; u < 10; u++) rows.push(`${u % 5},${u},"${u},1","1,0"`);
      const dir = writeFolder('pykt_tiny', { 'train_valid.csv': rows, 'test.csv': ['fold,uid,concepts,responses,cidxs', '-1,99,"12","1","0"'] });
      const d = loadDatasetDir(dir, { fold: 2 });
      expect(d.format).to.equal('pykt');
      expect(d.valid.sequences.map((s) => s.student)).to.deep.equal(['1', '6']);
      expect(d.train.sequences).to.have.length(8);
      expect(d.test.numSkills).to.equal(13);
    });

    it('reports the malformed split file and line, and layout problems by folder', () => {
      const dir = writeFolder('dkvmn_broken', {
        'b_train1.csv': ['2', '1,2', '0,1'],
        'b_valid1.csv': ['2', '1,2', '0,1', '3', '1,2,q', '1,1,1'],
        'b_test.csv': ['1', '1', '1'],
      });
      expectFormatError(() => loadDatasetDir(dir), path.join(dir, 'b_valid1.csv'), 5, /\('q'\) is not a whole number/);
      expect(() => loadDatasetDir(dir, { fold: 3 })).to.throw(/no …train3\.csv/);
      expect(() => loadDatasetDir(path.join(tmp, 'nowhere'))).to.throw(/is not a folder/);
      const noTest = writeFolder('dkvmn_notest', { 'b_train1.csv': ['1', '1', '1'] });
      expect(() => loadDatasetDir(noTest)).to.throw(/no …test\.csv or …test1\.csv/);
    });
  });

  describe('windows', () => {
    it('cuts consecutive non-overlapping pieces of at most the window length', () => {
      const n = 450;
      const seq: StudentSequence = {
        student: 's',
        skills: Int32Array.from({ length: n }, (_, i) => i % 7),
        items: Int32Array.from({ length: n }, (_, i) => i),
        correct: Uint8Array.from({ length: n }, (_, i) => i % 2),
      };
      const pieces = windows(seq, 200);
      expect(pieces.map((p) => p.correct.length)).to.deep.equal([200, 200, 50]);
      expect(pieces[1].items?.[0]).to.equal(200);
      expect(pieces[2].skills[49]).to.equal(449 % 7);
      expect(pieces.every((p) => p.student === 's')).to.equal(true);
      expect(windows({ student: 'x', skills: new Int32Array(0), correct: new Uint8Array(0) })).to.deep.equal([]);
      expect(() => windows(seq, 0)).to.throw(/positive integer/);
    });
  });

  describe('sequencesFromAttempts', () => {
    it('groups by student, orders by time (ties keep input order), keeps items when all rows have them', () => {
      const seqs = sequencesFromAttempts([
        { student: 'b', skill: 1, item: 10, correct: true, at: 5 },
        { student: 'a', skill: 2, item: 11, correct: 0, at: 9 },
        { student: 'a', skill: 3, item: 12, correct: 1, at: 1 },
        { student: 'a', skill: 4, item: 13, correct: false, at: 9 },
      ]);
      expect(seqs.map((s) => s.student)).to.deep.equal(['b', 'a']);
      expect(ids(seqs[1].skills)).to.deep.equal([3, 2, 4]);
      expect(ids(seqs[1].items)).to.deep.equal([12, 11, 13]);
      expect(ids(seqs[1].correct)).to.deep.equal([1, 0, 0]);
      const mixed = sequencesFromAttempts([
        { student: 'a', skill: 0, item: 1, correct: 1, at: 1 },
        { student: 'a', skill: 0, correct: 1, at: 2 },
      ]);
      expect(mixed[0].items).to.equal(undefined);
      expect(() => sequencesFromAttempts([{ student: 'a', skill: -1, correct: 1, at: 1 }])).to.throw(/skill -1 is not a 0-based index/);
    });
  });
});

describe('kt/data on the simulated stand-ins of the public folders (what a fresh clone reads)', () => {
  for (const name of ['dkvmn_assist2009_updated', 'akt_assist2009_pid'] as const) {
    it(`${name}: the folder written in its format reads back as the simulated students, ids 1-based by folder name`, () => {
      const dir = writeSimulatedFolder(name);
      try {
        const d = loadDatasetDir(dir, { fold: 1 });
        expect(d.format).to.equal(name.startsWith('akt_') ? 'four-line' : 'three-line');
        expect(d.base).to.equal(1);
        const expected = simulatedDataset(name, 60, 1).sequences;
        const read = d.train.sequences;
        expect(read.length).to.equal(expected.length);
        read.forEach((s, k) => {
          expect(ids(s.skills), `student ${k} skills`).to.deep.equal(ids(expected[k].skills));
          expect(ids(s.correct), `student ${k} answers`).to.deep.equal(ids(expected[k].correct));
          expect(s.items && ids(s.items), `student ${k} items`).to.deep.equal(expected[k].items && ids(expected[k].items));
        });
        expect(datasetSize(d.valid).students).to.equal(15);
        expect(datasetSize(d.test).students).to.equal(20);
      } finally {
        fs.rmSync(path.dirname(dir), { recursive: true, force: true });
      }
    });
  }
});

describe('kt/data on the shared public datasets (fold 1, counts from datasets/README.md)', function () {
  before(() => {
    const datasets = path.join(sharedDir(), 'datasets');
    if (!fs.existsSync(datasets)) skipForMissing({ what: 'public datasets', why: `${datasets} missing (set JEJAK_SHARED_DIR)`, ciProvides: false });
  });

  const sizes = (d: ReturnType<typeof loadDatasetDir>) => [datasetSize(d.train), datasetSize(d.valid), datasetSize(d.test)];

  it('dkvmn_assist2009_updated', () => {
    const d = loadDatasetDir(sharedDatasetDir('dkvmn_assist2009_updated'));
    expect(sizes(d)).to.deep.equal([
      { students: 2291, interactions: 176684 },
      { students: 630, interactions: 47534 },
      { students: 1230, interactions: 101419 },
    ]);
    expect(d.train).to.include({ numSkills: 110, numItems: 0 });
  });

  it('akt_assist2009_pid (items)', () => {
    const d = loadDatasetDir(sharedDatasetDir('akt_assist2009_pid'));
    expect(sizes(d).map((s) => s.interactions)).to.deep.equal([203442, 61280, 60915]);
    expect(d.format).to.equal('four-line');
    expect(d.train).to.include({ numSkills: 110, numItems: 16891 });
  });

  it('dkvmn_statics', () => {
    const d = loadDatasetDir(sharedDatasetDir('dkvmn_statics'));
    expect(sizes(d)).to.deep.equal([
      { students: 193, interactions: 108647 },
      { students: 36, interactions: 21537 },
      { students: 104, interactions: 59113 },
    ]);
    expect(d.train.numSkills).to.equal(1223);
  });

  it('piech_dkt_assist2009 (0-based, validation held out of train)', () => {
    const [train, valid, test] = sizes(loadDatasetDir(sharedDatasetDir('piech_dkt_assist2009')));
    expect(train.students + valid.students).to.equal(3361);
    expect(train.interactions + valid.interactions).to.equal(407967);
    expect(test).to.deep.equal({ students: 856, interactions: 117567 });
  });

  it('pykt_assist2015', () => {
    const d = loadDatasetDir(sharedDatasetDir('pykt_assist2015'));
    const [train, valid, test] = sizes(d);
    expect(train.students + valid.students).to.equal(15275);
    expect(train.interactions + valid.interactions).to.equal(544339);
    expect(test).to.deep.equal({ students: 3818, interactions: 138458 });
  });
});
