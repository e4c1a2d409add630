import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { testDialects, type TestDatabase } from '../support/db';
import { startTool, type RunningTool } from '../support/tool';
import { openTestDb, seedAttempts, seedBank, type BankFixture } from '../kt/bank-fixture';
import type { Connection } from '../../src/db/connect';
import type { Config } from '../../src/config';

const ROOT = path.resolve(__dirname, '../..');
const postgres = testDialects().find((d) => d.name === 'postgres');
const SECRET = 'scale-test-secret-0123456789abcdefghijklmnop';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, ms: number, f: () => Promise<T | undefined | false>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A round-robin HTTP proxy on loopback, as a load balancer in front of several Jejak processes. */
async function roundRobin(ports: () => number[]): Promise<{ url: string; hits: Map<number, number>; close(): Promise<void> }> {
  let next = 0;
  const hits = new Map<number, number>();
  const server = http.createServer((req, res) => {
    const all = ports();
    const port = all[next++ % all.length];
    hits.set(port, (hits.get(port) ?? 0) + 1);
    const up = http.request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

(postgres ? describe : describe.skip)('several Jejak processes on one PostgreSQL', function () {
  this.timeout(180_000);
  let tdb: TestDatabase;
  let conn: Connection;
  let fx: BankFixture;
  let child: ChildProcess | undefined;
  let local: RunningTool;
  let childPort = 0;
  let proxy: Awaited<ReturnType<typeof roundRobin>>;
  // Short leases so that a killed process's job comes back within the test.
  const jobs: Config['jobs'] = { trainingLeaseSeconds: 8, maintenanceSeconds: 1 };

  before(async () => {
    tdb = await postgres!.create();
    conn = await openTestDb(tdb);
    fx = await seedBank(conn.db);
    await seedAttempts(conn.db, fx, 60, 40);
    proxy = await roundRobin(() => [childPort, new URL(local.url).port].map(Number));
    // This one serves only; the child does background work, so that it is the child that trains.
    local = await startTool(tdb, { secret: SECRET, publicUrl: proxy.url, jobs, backgroundWork: false });
    childPort = 20000 + Math.floor(Math.random() * 20000);
    child = spawn(process.execPath, ['--import', 'tsx', 'test/scale/serve-one.ts'], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, PORT: String(childPort), DATABASE_URL: tdb.url, JEJAK_SECRET: SECRET, PUBLIC_URL: proxy.url, JEJAK_TEST_CONFIG: JSON.stringify({ jobs }) },
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await until('the second process', 60_000, async () => out.includes('ready'));
  });
  after(async () => {
    child?.kill('SIGKILL');
    await local?.close();
    await proxy?.close();
    await conn?.close();
    await tdb?.drop();
  });

  it('answers through either process: ready, and the same registration key and JWKS from both', async () => {
    const answers = await Promise.all([0, 1, 2, 3].map(() => fetch(`${proxy.url}/readyz`).then((r) => r.json())));
    expect(answers.every((a) => a.status === 'ok')).to.equal(true);
    const jwks = await Promise.all([0, 1].map(() => fetch(`${proxy.url}/lti/jwks`).then((r) => r.text())));
    expect(jwks[0]).to.equal(jwks[1]);
    expect([...proxy.hits.values()].every((n) => n >= 2)).to.equal(true);
  });

  it("a teacher's live view on one process hears of an answer the other process took (LISTEN/NOTIFY)", async () => {
    const heard: unknown[] = [];
    const unsubscribe = local.jejak.events.subscribe((e) => heard.push(e));
    try {
      // The child publishes as its answer route does; NOTIFY through its pool, LISTEN on ours.
      const { Client } = await import('pg');
      const c = new Client({ connectionString: tdb.url });
      await c.connect();
      await c.query(`select pg_notify('jejak_events', $1)`, [JSON.stringify({ type: 'answer', tenantId: fx.tenantId, activityId: 42 })]);
      await c.end();
      await until('the event', 5_000, async () => heard.length > 0);
      expect(heard[0]).to.deep.equal({ type: 'answer', tenantId: fx.tenantId, activityId: 42 });
    } finally {
      unsubscribe();
    }
  });

  it('a training job whose process is killed (kill -9) mid-way finishes on another, once', async () => {
    const id = await local.jejak.training.enqueue({ tenantId: fx.tenantId, bankId: fx.bankId, requestedBy: 'test', options: { hidden: 16, maxEpochs: 200, patience: 100, seed: 3 } });
    const running = await until('training on the child', 60_000, async () => {
      const j = await local.jejak.training.get(fx.tenantId, id);
      return j?.status === 'running' && (j.progress.batch ?? 0) > 0 && j;
    });
    const [, pid] = (await conn.db.selectFrom('kt_training_job').select('runner').where('id', '=', id).executeTakeFirstOrThrow()).runner!.split(':');
    expect(Number(pid)).to.equal(child!.pid);
    expect(running.progress.epoch ?? 0).to.be.below(200);
    child!.kill('SIGKILL');
    // Another process doing background work takes the job over once its lease expires.
    const rescuer = await startTool(tdb, { secret: SECRET, publicUrl: proxy.url, jobs });
    try {
      const done = await until('the job to finish elsewhere', 150_000, async () => {
        const j = await local.jejak.training.get(fx.tenantId, id);
        return (j?.status === 'succeeded' || (j?.status === 'failed' && !j.retryable)) && j;
      });
      expect(done.error).to.equal(null);
      expect(done.status).to.equal('succeeded');
      const models = await conn.db.selectFrom('kt_model').select('id').where('bank_id', '=', fx.bankId).execute();
      expect(models, 'one model: the job ran to the end once').to.have.length(1);
    } finally {
      await rescuer.close();
    }
  });
});
