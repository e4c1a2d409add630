import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { viewFiles } from '../../src/web/render';
import { keyPaths, LOCALES, MissingTranslation, pickLocale, translate } from '../../src/web/i18n';

const VIEWS = path.resolve(__dirname, '../../views');

describe('translations', () => {
  it('Bahasa Indonesia and English define exactly the same keys', () => {
    const en = keyPaths(LOCALES.en).sort();
    const id = keyPaths(LOCALES.id).sort();
    expect(en.filter((k) => !id.includes(k)), 'missing in id').to.deep.equal([]);
    expect(id.filter((k) => !en.includes(k)), 'missing in en').to.deep.equal([]);
  });

  it('every {{t "key"}} in the views exists in both languages', () => {
    const used = new Set<string>();
    for (const f of viewFiles(VIEWS)) {
      for (const m of fs.readFileSync(path.join(VIEWS, f), 'utf8').matchAll(/\{\{t "([\w.]+)"/g)) used.add(m[1]);
    }
    expect(used.size).to.be.greaterThan(20);
    for (const key of used) for (const loc of ['en', 'id'] as const) expect(() => translate(loc, key), `${loc}:${key}`).not.to.throw();
  });

  it('every refusal reason the code can raise has a message', () => {
    const src = fs.readFileSync(path.resolve(__dirname, '../../src/lti/refusal.ts'), 'utf8');
    const reasons = [...src.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]);
    expect(reasons).to.include('replayed');
    for (const r of reasons) for (const loc of ['en', 'id'] as const) expect(() => translate(loc, `errors.reasons.${r}`), `${loc}:${r}`).not.to.throw();
  });

  it('fails loudly on a missing key and fills placeholders', () => {
    expect(() => translate('en', 'no.such.key')).to.throw(MissingTranslation);
    expect(translate('id', 'home.student_welcome', { course: 'Matematika 7A' })).to.contain('Matematika 7A');
  });

  it('English counts agree with their number ("1 minute", "2 minutes")', () => {
    // Placeholders that hold names ({type} questions, {skill} items) are not counts.
    const counted = /\{(?!type\}|skill\}|name\})\w+\} (minute|second|hour|day|answer|question|item|skill|student|attempt|time|part|row|try|tries)s?\b/;
    const bare = keyPaths(LOCALES.en).filter((k) => {
      const text = translate('en', k).replace(/\{\w+, plural, one \{[^{}]*\} other \{[^{}]*\}\}/g, '');
      return counted.test(text);
    });
    expect(bare, 'English strings that put a number before a noun without a plural form').to.deep.equal([]);
    expect(translate('en', 'teacher.flag_reasons.idle', { minutes: 1 })).to.contain('1 minute.');
    expect(translate('en', 'teacher.flag_reasons.idle', { minutes: 5 })).to.contain('5 minutes.');
    expect(translate('id', 'teacher.flag_reasons.idle', { minutes: 1 })).to.contain('1 menit');
  });

  it('picks the page language from LTI and browser locales', () => {
    expect(pickLocale('id')).to.equal('id');
    expect(pickLocale('id-ID')).to.equal('id');
    expect(pickLocale('in_ID')).to.equal('id');
    expect(pickLocale('en')).to.equal('en');
    expect(pickLocale('en-US,id;q=0.8')).to.equal('en');
    expect(pickLocale('fr')).to.equal('en');
    expect(pickLocale(undefined)).to.equal('en');
    expect(pickLocale('india')).to.equal('en');
  });
});
