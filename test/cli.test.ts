import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { testDialects, type TestDatabase } from './support/db';

const ROOT = path.resolve(__dirname, '..');

/** Runs `npm run jejak -- …` as IT would, against the given database. */
function jejak(db: TestDatabase, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, DATABASE_URL: db.url, JEJAK_SECRET: 'cli-test-secret-0123456789abcdefghijk', PUBLIC_URL: 'https://jejak.madrasah.sch.id' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A complete manual registration, as IT types it. */
const add = ['platform', 'add', '--issuer', 'https://lms.madrasah.sch.id', '--client-id', 'AbC123', '--auth-url', 'https://lms.madrasah.sch.id/mod/lti/auth.php',
  '--token-url', 'https://lms.madrasah.sch.id/mod/lti/token.php', '--jwks-url', 'https://lms.madrasah.sch.id/mod/lti/certs.php', '--deployment', '4'];

for (const dialect of testDialects()) {
  describe(`CLI: manual platform registration on ${dialect.name}`, function () {
    // Each command is a fresh Node process compiling TypeScript on the fly: seconds apiece.
    this.timeout(240_000);
    let db: TestDatabase;
    before(async () => {
      db = await dialect.create();
    });
    after(async () => db.drop());

    const add = ['platform', 'add', '--issuer', 'https://lms.madrasah.sch.id', '--client-id', 'AbC123', '--auth-url', 'https://lms.madrasah.sch.id/mod/lti/auth.php',
      '--token-url', 'https://lms.madrasah.sch.id/mod/lti/token.php', '--jwks-url', 'https://lms.madrasah.sch.id/mod/lti/certs.php', '--deployment', '4'];

    it('adds a platform with a deployment, adds a second deployment, lists and removes it', () => {
      const a = jejak(db, ...add);
      expect(a.code, a.err).to.equal(0);
      expect(a.out).to.contain('Registered https://lms.madrasah.sch.id (client_id AbC123); deployments: 4');
      const b = jejak(db, 'platform', 'add', '--issuer', 'https://lms.madrasah.sch.id', '--client-id', 'AbC123', '--deployment', '7');
      expect(b.code, b.err).to.equal(0);
      expect(b.out).to.contain('deployments: 4, 7');
      const list = jejak(db, 'platform', 'list', '--json');
      expect(list.code).to.equal(0);
      const platforms = JSON.parse(list.out);
      expect(platforms).to.have.length(1);
      expect(platforms[0]).to.include({ issuer: 'https://lms.madrasah.sch.id', clientId: 'AbC123', source: 'manual' });
      expect(platforms[0].deploymentIds).to.deep.equal(['4', '7']);
      const urls = jejak(db, 'urls');
      expect(urls.out).to.match(/^Registration URL: https:\/\/jejak\.madrasah\.sch\.id\/lti\/register\?key=\S{16,}$/m);
      expect(urls.out).to.contain('JWKS URL: https://jejak.madrasah.sch.id/lti/jwks');
      const rm = jejak(db, 'platform', 'remove', '--issuer', 'https://lms.madrasah.sch.id', '--client-id', 'AbC123');
      expect(rm.code).to.equal(0);
      expect(JSON.parse(jejak(db, 'platform', 'list', '--json').out)).to.deep.equal([]);
    });
  });
}

// Mistakes are refused before any database work, so one dialect is enough.
describe('CLI: mistakes', function () {
  this.timeout(240_000);
  let db: TestDatabase;
  before(async () => {
    db = await testDialects()[0].create();
  });
  after(async () => db.drop());
  it('answers a mistake with one line and exit code 2', () => {
    for (const args of [
      ['platform', 'add', '--issuer', 'not a url', '--client-id', 'x', '--deployment', '1'],
      ['platform', 'add', ...add.slice(2, -2)],
      ['platform', 'remove', '--issuer', 'https://nowhere.example', '--client-id', 'x'],
      ['platform', 'frobnicate'],
      ['platform', 'add', '--bogus'],
      ['nonsense'],
    ]) {
      const r = jejak(db, ...args);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.err.trim().split('\n'), args.join(' ')).to.have.length(1);
      expect(r.err).to.match(/^jejak: /);
    }
  });
});
