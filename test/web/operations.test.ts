import { expect } from 'chai';
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { testDialects, type TestDatabase } from '../support/db';
import { startTool, type RunningTool } from '../support/tool';

const ROOT = path.resolve(__dirname, '../..');

describe('operations', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let tool: RunningTool;
  before(async () => {
    db = await testDialects()[0].create();
    tool = await startTool(db);
  });
  after(async () => {
    await tool.close();
    await db.drop();
  });

  it('GET /healthz says the process is alive; /readyz reports the database and migrations, and 503 when the database is gone', async () => {
    expect(await (await fetch(`${tool.url}/readyz`)).json()).to.deep.equal({ status: 'ok', database: 'ok', migrations: 'ok' });
    const other = await startTool(db);
    await other.jejak.conn.close();
    const alive = await fetch(`${other.url}/healthz`);
    expect(alive.status).to.equal(200);
    expect(await alive.json()).to.deep.equal({ status: 'ok' });
    const down = await fetch(`${other.url}/readyz`);
    expect(down.status).to.equal(503);
    expect(await down.json()).to.deep.equal({ status: 'unavailable', database: 'unreachable', migrations: 'unknown' });
    await other.close().catch(() => undefined);
  });

  it('GET /metrics: Prometheus text with latency by route pattern (no session ids), answers, scores and jobs', async () => {
    await fetch(`${tool.url}/s/secret-session-id/teacher`);
    const res = await fetch(`${tool.url}/metrics`);
    expect(res.headers.get('content-type')).to.contain('text/plain');
    const text = await res.text();
    expect(text).to.contain('# TYPE jejak_http_request_duration_seconds histogram');
    expect(text).to.match(/jejak_http_request_duration_seconds_bucket\{route="\/readyz",method="GET",status="2xx",le="\+Inf"\} \d+/);
    expect(text).to.contain('# TYPE jejak_practice_answers_total counter');
    expect(text).to.contain('# TYPE jejak_scores gauge');
    expect(text).to.match(/jejak_jobs\{job="purge_expired",state="queued"\} \d+/);
    expect(text).not.to.contain('secret-session-id');
  });

  it('GET /metrics answers only loopback without a token: a request relayed by a proxy is refused whatever `trust proxy` says', async () => {
    expect((await fetch(`${tool.url}/metrics`)).status, 'direct, from this machine').to.equal(200);
    for (const trustProxy of ['loopback', 'false', 'true']) {
      const other = await startTool(db, { trustProxy });
      try {
        for (const headers of [{ 'x-forwarded-for': '203.0.113.7' }, { 'x-forwarded-for': '127.0.0.1' }, { forwarded: 'for=203.0.113.7' }, { 'x-real-ip': '203.0.113.7' }] as Record<string, string>[]) {
          const r = await fetch(`${other.url}/metrics`, { headers });
          expect(r.status, `${trustProxy} ${JSON.stringify(headers)}`).to.equal(403);
          expect(await r.text()).not.to.contain('jejak_');
        }
      } finally {
        await other.close();
      }
    }
  });

  it('GET /metrics with METRICS_TOKEN set: the bearer token is required, from anywhere', async () => {
    const token = 'scrape-token-0123456789';
    const other = await startTool(db, { metricsToken: token, trustProxy: 'true' });
    try {
      const get = (headers: Record<string, string>) => fetch(`${other.url}/metrics`, { headers }).then((r) => r.status);
      expect(await get({}), 'no token, even from loopback').to.equal(403);
      expect(await get({ authorization: 'Bearer wrong-token-0123456789' })).to.equal(403);
      expect(await get({ authorization: `Basic ${token}` })).to.equal(403);
      expect(await get({ authorization: `Bearer ${token}` })).to.equal(200);
      expect(await get({ authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.7' }), 'through a proxy').to.equal(200);
    } finally {
      await other.close();
    }
  });

  it('logs each request as one JSON line with a request id, without session ids', async () => {
    const res = await fetch(`${tool.url}/s/secret-session-id/`, { headers: { 'x-request-id': 'trace-42' } });
    expect(res.status).to.equal(401);
    expect(res.headers.get('x-request-id')).to.equal('trace-42');
    const line = tool.logs.find((l) => l.msg === 'request' && l.reqId === 'trace-42');
    expect(line).to.include({ method: 'GET', path: '/s/:sid/', status: 401 });
    expect(JSON.stringify(tool.logs)).not.to.contain('secret-session-id');
  });

  it('answers unknown pages with a translated 404 page, and oversized posts with 413, never a stack trace', async () => {
    const nf = await fetch(`${tool.url}/nope?lang=id`);
    expect(nf.status).to.equal(404);
    expect(await nf.text()).to.contain('Halaman ini tidak ada');
    const big = await fetch(`${tool.url}/lti/launch`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'id_token=' + 'a'.repeat(200_000) });
    expect(big.status).to.equal(413);
    const body = await big.text();
    expect(body).to.contain('Jejak could not open');
    expect(body).not.to.match(/\bat \S+ \(/);
  });

  it('`npm start` serves, prints the URLs IT needs, and on SIGTERM finishes in-flight requests before exiting', async () => {
    const port = 30000 + Math.floor(Math.random() * 20000);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT, env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: path.join(path.dirname(db.url), 'start.db'), JEJAK_SECRET: 'start-test-secret-0123456789abcdefghijk' },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    /** Resolves once the process has printed `pattern` (the test's timeout bounds the wait, not a deadline of its own). */
    const printed = (pattern: RegExp) => new Promise<void>((resolve) => {
      const check = () => {
        if (!pattern.test(out)) return;
        child.stdout.off('data', check);
        child.stderr.off('data', check);
        resolve();
      };
      child.stdout.on('data', check);
      child.stderr.on('data', check);
      check();
    });
    await printed(/^JWKS URL: .*$/m);
    const lines = out.split('\n');
    const at = lines.findIndex((l) => l.startsWith('Registration URL: '));
    expect(at, out).to.be.greaterThan(-1);
    expect(lines[at]).to.match(new RegExp(`^Registration URL: http://localhost:${port}/lti/register\\?key=\\S+$`));
    expect(lines[at + 1]).to.equal(`Login URL: http://localhost:${port}/lti/login`);
    expect(lines[at + 2]).to.equal(`Launch (redirect) URL: http://localhost:${port}/lti/launch`);
    expect(lines[at + 3]).to.equal(`JWKS URL: http://localhost:${port}/lti/jwks`);
    // A slow client is mid-request when SIGTERM arrives: its request still gets an answer. The server has
    // read its headers (it answered `100 Continue`), and the body's end is sent only once the process
    // says it is shutting down: no guess at how long either takes.
    const body = 'iss=x&login_hint=1';
    let headersRead!: () => void;
    const inFlightHeadersRead = new Promise<void>((r) => (headersRead = r));
    const inFlight = new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/lti/login', method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length), expect: '100-continue' } }, (res) => resolve(res.statusCode!));
      req.on('error', reject);
      req.on('continue', () => {
        req.write(body.slice(0, 13));
        headersRead();
        void printed(/"msg":"shutting down"/).then(() => req.end(body.slice(13)));
      });
    });
    await inFlightHeadersRead;
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await inFlight).to.equal(400);
    expect(await exited, out).to.equal(0);
    expect(out).to.contain('"msg":"stopped"');
  });

  describe('security headers', () => {
    it('allows framing only by registered platforms, and no inline script', async () => {
      const before = (await fetch(`${tool.url}/`)).headers.get('content-security-policy')!;
      expect(before).to.contain("frame-ancestors 'self'");
      expect(before).to.contain("script-src 'self'");
      expect(before).not.to.contain('unsafe-inline\'; script');
      expect(before).not.to.contain('moodle.example');
      await tool.jejak.platforms.register({
        issuer: 'https://moodle.example', clientId: 'c', name: 'M', authLoginUrl: 'https://auth.moodle.example/mod/lti/auth.php',
        tokenUrl: 'https://moodle.example/mod/lti/token.php', jwksUrl: 'https://moodle.example/mod/lti/certs.php', source: 'manual', deploymentIds: ['1'],
      });
      const after = (await fetch(`${tool.url}/`)).headers.get('content-security-policy')!;
      const frameAncestors = after.split('; ').find((d) => d.startsWith('frame-ancestors'));
      expect(frameAncestors).to.equal("frame-ancestors 'self' https://auth.moodle.example https://moodle.example");
    });

    it('refuses a write to a session page from another site', async () => {
      const r = await fetch(`${tool.url}/s/any-session/answer`, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
      expect(r.status).to.equal(403);
    });
  });
});
