import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError, loadConfig } from '../src/config';

const ROOT = path.resolve(__dirname, '..');

describe('configuration', () => {
  it('has working defaults: port 3000, SQLite under data/, public URL from the port', () => {
    const c = loadConfig({});
    expect(c.port).to.equal(3000);
    expect(c.databaseUrl).to.equal('data/jejak.db');
    expect(c.publicUrl).to.equal('http://localhost:3000');
  });

  it('takes environment overrides and trims a trailing slash from PUBLIC_URL', () => {
    const c = loadConfig({ PORT: '8080', PUBLIC_URL: 'https://jejak.madrasah.sch.id/', DATABASE_URL: 'postgres://u@db/jejak', LAUNCH_CLOCK_SKEW_SECONDS: '30' });
    expect(c.port).to.equal(8080);
    expect(c.publicUrl).to.equal('https://jejak.madrasah.sch.id');
    expect(c.databaseUrl).to.equal('postgres://u@db/jejak');
    expect(c.launch.clockSkewSeconds).to.equal(30);
  });

  for (const [env, name] of [
    [{ PORT: 'abc' }, 'PORT'],
    [{ PUBLIC_URL: 'jejak.example' }, 'PUBLIC_URL'],
    [{ JEJAK_SECRET: 'short' }, 'JEJAK_SECRET'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ LAUNCH_CLOCK_SKEW_SECONDS: '-5' }, 'LAUNCH_CLOCK_SKEW_SECONDS'],
  ] as const) {
    it(`refuses a bad ${name} with one line naming it`, () => {
      let err: unknown;
      try {
        loadConfig(env);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).to.contain(name);
      expect(msg.split('\n')).to.have.length(1);
    });
  }

  for (const [name, value] of [
    ['ADMIN_PASSWORD', 'hunter2-pw!'],
    ['JEJAK_SECRET', 'a-secret-too-short-to-use'],
    ['REGISTRATION_KEY', 'key-tooshort'],
    ['METRICS_TOKEN', 'scrape-me'],
  ] as const) {
    it(`names a bad ${name} without printing its value`, () => {
      let message = '';
      try {
        loadConfig({ [name]: value });
      } catch (e) {
        expect(e).to.be.instanceOf(ConfigError);
        message = (e as Error).message;
      }
      expect(message).to.match(new RegExp(`\\(${name}\\) is set \\(value not shown\\): must be at least`));
      expect(message).not.to.contain(value);
    });
  }

  it('`npm start` with a short ADMIN_PASSWORD says so without printing the password', function () {
    this.timeout(30_000);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env: { ...process.env, ADMIN_PASSWORD: 'short-pw' }, encoding: 'utf8' });
    expect(r.status).to.equal(1);
    expect(r.stderr.trim()).to.equal('Configuration error: adminPassword (ADMIN_PASSWORD) is set (value not shown): must be at least 12 characters');
    expect(r.stdout + r.stderr).not.to.contain('short-pw');
  });

  it('stops `npm start` on a bad setting with one clear line and no stack trace', function () {
    this.timeout(30_000);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env: { ...process.env, PORT: 'seventy' }, encoding: 'utf8' });
    expect(r.status).to.equal(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^Configuration error: port \(PORT\) is "seventy"/);
    expect(r.stderr).not.to.contain('    at ');
  });
});
