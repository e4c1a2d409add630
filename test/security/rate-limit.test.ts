import { expect } from 'chai';
import { SignJWT } from 'jose';
import { MoodleSim } from '../platform';
import { launch } from '../support/http-browser';
import { testDialects, type TestDatabase } from '../support/db';
import { registerTool, startTool, type RunningTool } from '../support/tool';

const LOW = {
  trustProxy: 'true', rateLimits: { windowSeconds: 3600, login: { perIp: 3, pendingPerIp: 600 }, launch: { perIp: 3, perIssuer: 4 }, registration: { perIp: 2 } },
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
      // The wait is said with its plural: "1 second" when the window is about to end.
      expect(await refused.text()).to.contain(`Please wait ${wait} ${wait === 1 ? 'second' : 'seconds'},`);
      const id = await login(a, '198.51.100.1', 'https://moodle.example', 'id');
      expect(id.status).to.equal(429);
      expect(await id.text()).to.contain('Terlalu banyak permintaan');
      expect((await login(a, '198.51.100.2')).status, 'another address (X-Forwarded-For, trusted proxy)').to.not.equal(429);
    });

    it("refused logins and unverified launches naming a platform spend their address's budget, never the platform's", async () => {
      const sim = await MoodleSim.start();
      try {
        const clientId = await registerTool(sim, a);
        const { course, students } = sim.seedDefault();
        const activityId = sim.addActivity({ courseId: course.id, clientId, title: 'Pecahan' });
        // A stranger floods logins naming the school's LMS from one address (each refused: no such target)…
        const flood = [];
        for (let i = 0; i < 8; i++) flood.push((await login(i % 2 ? a : b, '203.0.113.66', sim.issuer)).status);
        expect(flood.slice(0, 3)).to.deep.equal([400, 400, 400]);
        expect(flood.slice(3)).to.deep.equal([429, 429, 429, 429, 429]);
        // …and posts badly signed tokens with the LMS as issuer from many addresses (more than the platform's budget of 4).
        const forged = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer(sim.issuer).sign(new TextEncoder().encode('x'.repeat(32)));
        const posts = [];
        for (let i = 0; i < 6; i++) {
          const r = await fetch(`${b.url}/lti/launch`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `192.0.2.${i}` }, body: `id_token=${forged}&state=s` });
          posts.push(r.status);
        }
        expect(posts).to.not.include(429);
        // The school's students, from the school's own address, still get in.
        for (const student of students.slice(0, 2)) {
          const r = await launch(sim, { clientId, userId: student.id, courseId: course.id, activityId });
          expect(r.final.status, r.final.body.slice(0, 300)).to.equal(200);
          expect(r.final.url).to.match(/\/s\/[\w-]+\/$/);
        }
      } finally {
        await sim.close();
      }
    });

    it('counts an IPv6 client by its /64, however it writes or varies its address', async () => {
      const statuses = [];
      for (const ip of ['2001:db8:7:1::a', '2001:db8:7:1:ffff:1:2:3', '2001:0db8:0007:0001::b', '2001:DB8:7:1::c']) statuses.push((await login(statuses.length % 2 ? a : b, ip)).status);
      expect(statuses.slice(0, 3)).to.not.include(429);
      expect(statuses[3]).to.equal(429);
      expect((await login(a, '2001:db8:7:2::a')).status, 'the next /64').to.not.equal(429);
    });

    it('limits registrations per address', async () => {
      const reg = [];
      for (let i = 0; i < 3; i++) reg.push((await fetch(`${b.url}/lti/register?key=nope`, { headers: { 'x-forwarded-for': '192.0.2.200' } })).status);
      expect(reg).to.deep.equal([403, 403, 429]);
    });
  });
}

describe("a platform's budget is spent by its verified launches", function () {
  this.timeout(60_000);
  it("the third verified launch of a platform with a budget of two is refused with 429, in the student's language", async () => {
    const [sqlite] = testDialects();
    const tdb = await sqlite!.create();
    const tool = await startTool(tdb, { rateLimits: { windowSeconds: 3600, login: { perIp: 100, pendingPerIp: 100 }, launch: { perIp: 100, perIssuer: 2 }, registration: { perIp: 2 } } });
    const sim = await MoodleSim.start();
    try {
      const clientId = await registerTool(sim, tool);
      const { course, students } = sim.seedDefault();
      const activityId = sim.addActivity({ courseId: course.id, clientId, title: 'Pecahan' });
      const statuses = [];
      for (const student of students.slice(0, 3)) statuses.push((await launch(sim, { clientId, userId: student.id, courseId: course.id, activityId, locale: 'id' })).final);
      expect(statuses.map((r) => r.status)).to.deep.equal([200, 200, 429]);
      expect(statuses[2]!.headers.get('retry-after')).to.match(/^\d+$/);
      expect(statuses[2]!.body).to.contain('LMS sekolah ini');
      // Now spent, the platform's logins are refused before any work is done.
      const again = await launch(sim, { clientId, userId: students[0]!.id, courseId: course.id, activityId });
      expect(again.final.status).to.equal(429);
      expect(again.steps.find((s) => s.name === 'platformAuth'), 'no round trip to the LMS').to.equal(undefined);
    } finally {
      await sim.close();
      await tool.close();
      await tdb.drop();
    }
  });
});

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
