import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import { testDialects, type TestDatabase } from '../support/db';
import { freePort } from '../support/tool';
import { connect } from '../../src/db/connect';
import { ROOT } from '../../src/config';
import { startEntry, type EntryProcess } from './entry-process';

const postgres = testDialects().find((d) => d.name === 'postgres');

/** The parent pid of a process, from /proc. */
const parentOf = (pid: number) => Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A GET on a connection of its own (the cluster hands out connections, not requests), tagged with a request id. */
function get(port: number, path: string, reqId: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false, headers: { 'x-request-id': reqId, connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    }).on('error', reject);
  });
}

(postgres ? describe : describe.skip)('`npm start` with WEB_CONCURRENCY=2 on PostgreSQL', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  let jejak: EntryProcess | undefined;

  before(async () => {
    tdb = await postgres!.create();
  });
  after(async () => {
    jejak?.signal('SIGKILL');
    await tdb?.drop();
  });

  it('two worker processes serve requests, the database is prepared once, and SIGTERM stops them all cleanly', async () => {
    const port = await freePort();
    jejak = startEntry('src/main.ts', {
      PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: tdb.url, JEJAK_SECRET: 'cluster-test-secret-0123456789abcdefghij',
      WEB_CONCURRENCY: '2', LOG_LEVEL: 'info',
    });
    await jejak.line((l) => l.startsWith('JWKS URL: '), 45_000, 'the URLs');
    expect(jejak.lines.filter((l) => l.startsWith('Jejak is serving')), 'one worker speaks for all').to.have.length(1);
    expect(jejak.lines.find((l) => l.startsWith('Jejak is serving'))).to.contain('2 worker processes');

    // Requests on fresh connections until both workers have answered (the second may still be starting).
    const servedBy = new Map<string, number>();
    const deadline = Date.now() + 30_000;
    for (let i = 0; new Set(servedBy.values()).size < 2 && Date.now() < deadline; i++) {
      const reqId = `cluster-${i}`;
      expect(await get(port, '/readyz', reqId)).to.equal(200);
      const line = await jejak.line((l) => l.includes(`"reqId":"${reqId}"`) && l.includes('"msg":"request"'), 5_000, `the log of ${reqId}`);
      servedBy.set(reqId, JSON.parse(line).pid);
    }
    const pids = [...new Set(servedBy.values())];
    expect(pids, 'pids that served requests').to.have.length(2);
    for (const pid of pids) {
      expect(pid).to.not.equal(jejak.pid);
      expect(parentOf(pid), `worker ${pid} is a child of the primary`).to.equal(jejak.pid);
    }
    // The primary migrates before forking and the workers start on a prepared database: one sample bank, not one each.
    const conn = await connect(tdb.url, ROOT);
    try {
      const banks = await conn.db.selectFrom('bank').select('id').where('tenant_id', 'is', null).execute();
      expect(banks, 'sample banks').to.have.length(1);
    } finally {
      await conn.close();
    }

    jejak.signal('SIGTERM');
    const { code } = await jejak.exited;
    expect(code, jejak.lines.slice(-10).join('\n')).to.equal(0);
    const logs = jejak.logs();
    for (const pid of pids) {
      expect(alive(pid), `worker ${pid} has ended`).to.equal(false);
      expect(logs.some((l) => l.msg === 'stopped' && l.pid === pid), `worker ${pid} closed its database and said so`).to.equal(true);
      expect(logs.find((l) => l.msg === 'worker stopped' && l.pid === pid)).to.include({ code: 0, signal: null });
    }
    expect(logs.filter((l) => l.msg === 'worker process died'), 'no worker was restarted').to.deep.equal([]);
    expect(logs.at(-1)).to.include({ msg: 'stopped' }).and.not.to.have.property('pid');
  });
});
