import { expect } from 'chai';
import { pgBossQueue } from '../../src/jobs/pgboss';
import type { JobQueue } from '../../src/jobs/queue';
import { createLogger } from '../../src/log';
import { testDialects, type TestDatabase } from '../support/db';

const postgres = testDialects().find((d) => d.name === 'postgres')!;

describe('pg-boss queues defined by several processes at once', function () {
  this.timeout(120_000);
  let tdb: TestDatabase;
  before(async () => {
    tdb = await postgres.create();
  });
  after(async () => {
    await tdb?.drop();
  });

  it('two processes defining the same new queues in opposite orders both start (pg-boss alone deadlocked)', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `race_${i}`);
    const log = createLogger('error');
    const queues: JobQueue[] = [];
    try {
      // Two "processes": each its own pg-boss with its own pool, as two web workers of one database have.
      for (let i = 0; i < 2; i++) queues.push(await pgBossQueue({ connectionString: tdb.url, work: false, log, maintenanceSeconds: 300 }));
      const spec = { leaseSeconds: 60, retryLimit: 1, retryDelaySeconds: 1 };
      const [a, b] = queues;
      await Promise.all([
        (async () => { for (const n of names) await a.define(n, spec, async () => undefined); })(),
        (async () => { for (const n of [...names].reverse()) await b.define(n, spec, async () => undefined); })(),
      ]);
      for (const q of queues) expect((await q.stats()).map((s) => s.name).sort()).to.deep.equal([...names].sort());
    } finally {
      for (const q of queues) await q.close();
    }
  });
});
