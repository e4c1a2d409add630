import { expect } from 'chai';
import { SignJWT } from 'jose';
import { testDialects, type TestDatabase } from '../support/db';
import { startTool, type RunningTool } from '../support/tool';

const LOW = {
  trustProxy: 'true', rateLimits: { windowSeconds: 3600, login: { perIp: 3, perIssuer: 5 }, launch: { perIp: 3, perIssuer: 4 }, registration: { perIp: 2 } },
};

for (const dialect of testDialects()) {
  describe(`rate limits on login, launch and registration (${dialect.name})`, function () {
    this.timeout(60_000);
    let tdb: TestDatabase;
    let a: RunningTool;
    let b: RunningTool;
    before(async () => {
      tdb = await dialect.create();
      // Two processes on one database: the counters are shared.
      a = await startTool(tdb, LOW);
      b = await startTool(tdb, LOW);
    });
    after(async () => {
      await a?.close();
      await b?.close();
      await tdb?.drop();
    });

    const login = (tool: RunningTool, ip: string, iss = 'https://moodle.example', lang = 'en') =>
      fetch(`${tool.url}/lti/login?iss=${encodeURIComponent(iss)}&login_hint=1&target_link_uri=x`, { redirect: 'manual', headers: { 'x-forwarded-for': ip, 'accept-language': lang } });

    it('counts per client IP across processes and answers 429 with Retry-After, in both languages', async () => {
      const statuses = [];
      for (const tool of [a, b, a]) statuses.push((await login(tool, '198.51.100.1')).status);
      expect(statuses).to.not.include(429);
      const refused = await login(b, '198.51.100.1');
      expect(refused.status).to.equal(429);
      const wait = Number(refused.headers.get('retry-after'));
      expect(wait).to.be.within(1, 3600);
      expect(await refused.text()).to.contain(`Please wait ${wait} seconds`);
      const id = await login(a, '198.51.100.1', 'https://moodle.example', 'id');
      expect(id.status).to.equal(429);
      expect(await id.text()).to.contain('Terlalu banyak permintaan');
      expect((await login(a, '198.51.100.2')).status, 'another address (X-Forwarded-For, trusted proxy)').to.not.equal(429);
    });

    it('counts per issuer whatever the address', async () => {
      const iss = 'https://busy.example';
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await login(i % 2 ? a : b, `203.0.113.${i}`, iss)).status);
      expect(statuses.slice(0, 5)).to.not.include(429);
      expect(statuses[5]).to.equal(429);
    });

    it('limits launches per issuer (read from the token) and registrations per address', async () => {
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://launch.example').sign(new TextEncoder().encode('x'.repeat(32)));
      const statuses = [];
      for (let i = 0; i < 5; i++) {
        const r = await fetch(`${a.url}/lti/launch`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `192.0.2.${i}` }, body: `id_token=${token}&state=s` });
        statuses.push(r.status);
      }
      expect(statuses.slice(0, 4)).to.not.include(429);
      expect(statuses[4]).to.equal(429);
      const reg = [];
      for (let i = 0; i < 3; i++) reg.push((await fetch(`${b.url}/lti/register?key=nope`, { headers: { 'x-forwarded-for': '192.0.2.200' } })).status);
      expect(reg).to.deep.equal([403, 403, 429]);
    });
  });
}

describe('default rate limits let a whole class launch at once', function () {
  this.timeout(60_000);
  it('40 students behind one school NAT address, logging in and launching within seconds', async () => {
    const [sqlite] = testDialects();
    const tdb = await sqlite!.create();
    const tool = await startTool(tdb);
    try {
      const statuses = await Promise.all(Array.from({ length: 80 }, (_, i) => (i % 2
        ? fetch(`${tool.url}/lti/login?iss=https%3A%2F%2Fmoodle.example&login_hint=${i}&target_link_uri=x`, { redirect: 'manual' })
        : fetch(`${tool.url}/lti/launch`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'id_token=x&state=y' })
      ).then((r) => r.status)));
      expect(statuses).to.not.include(429);
    } finally {
      await tool.close();
      await tdb.drop();
    }
  });
});
