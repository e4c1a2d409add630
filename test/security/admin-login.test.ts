import { expect } from 'chai';
import { HttpBrowser } from '../support/http-browser';
import { testDialects, type TestDatabase } from '../support/db';
import { startTool, type RunningTool } from '../support/tool';

const PASSWORD = 'correct-horse-battery';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const dialect of testDialects()) {
  describe(`admin sign-in resists guessing; sign-out and a new password end sessions (${dialect.name})`, function () {
    this.timeout(90_000);
    let tdb: TestDatabase;
    let tool: RunningTool;
    let next = 0;
    /** A fresh client address for each use (X-Forwarded-For through a trusted proxy). */
    const freshIp = () => `198.18.${Math.floor(++next / 250)}.${(next % 250) + 1}`;
    before(async () => {
      tdb = await dialect.create();
      tool = await startTool(tdb, { adminPassword: PASSWORD, trustProxy: 'true' });
    });
    after(async () => {
      await tool?.close();
      await tdb?.drop();
    });

    const signIn = (b: HttpBrowser, password: string, ip: string, lang = 'en') =>
      b.post(`${tool.url}/admin/login?lang=${lang}`, { password }, { headers: { origin: tool.url, 'x-forwarded-for': ip }, followRedirects: false });
    const audited = async (action: string) => (await tool.jejak.conn.db.selectFrom('audit_event').select('details').where('action', '=', action).execute())
      .map((r) => JSON.parse(r.details) as { address: string });
    const adminCookie = (b: HttpBrowser) => `jejak_admin=${b.jar.all().find((c) => c.name === 'jejak_admin')!.value}`;

    it('checks five wrong passwords from an address, then makes each next one wait a doubling delay; checked attempts are audited', async () => {
      const ip = freshIp();
      const b = new HttpBrowser();
      const statuses = [];
      for (let i = 0; i < 12; i++) statuses.push((await signIn(b, `guess-number-${i}`, ip)).status);
      expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
      const waiting = await signIn(b, PASSWORD, ip, 'id');
      expect(waiting.status, 'even the right password waits').to.equal(429);
      const first = Number(waiting.headers.get('retry-after'));
      expect(first).to.be.within(1, 2);
      expect(waiting.body).to.contain('Terlalu banyak percobaan masuk');
      expect((await audited('admin.sign_in_failed')).filter((d) => d.address === ip)).to.have.length(5);

      await sleep(first * 1000 + 200);
      expect((await signIn(b, 'one-more-guess', ip)).status).to.equal(401);
      const longer = await signIn(b, 'and-another', ip);
      expect(longer.status).to.equal(429);
      expect(Number(longer.headers.get('retry-after'))).to.be.greaterThan(first);
      expect((await audited('admin.sign_in_failed')).filter((d) => d.address === ip)).to.have.length(6);

      // Another address is not held up, and its sign-in is audited.
      const other = freshIp();
      const ok = await signIn(new HttpBrowser(), PASSWORD, other);
      expect(ok.status).to.equal(303);
      expect((await audited('admin.signed_in')).map((d) => d.address)).to.include(other);
    });

    it('simultaneous guesses from one address get no more tries than sequential ones', async () => {
      const ip = freshIp();
      const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => signIn(new HttpBrowser(), `parallel-${i}`, ip).then((r) => r.status)));
      expect(statuses.filter((s) => s === 401).length).to.be.within(1, 5);
      expect(statuses.filter((s) => s !== 401 && s !== 429)).to.deep.equal([]);
    });

    it('sign-out ends the session on the server: a copy of the old cookie no longer opens /admin', async () => {
      const b = new HttpBrowser();
      expect((await signIn(b, PASSWORD, freshIp())).status).to.equal(303);
      const cookie = adminCookie(b);
      const home = await b.get(`${tool.url}/admin`);
      expect(home.status).to.equal(200);
      const copy = new HttpBrowser();
      copy.setCookie(tool.url, `${cookie}; Path=/admin`);
      expect((await copy.get(`${tool.url}/admin`)).status, 'the copy works while signed in').to.equal(200);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(home.body)![1]!;
      const before = (await audited('admin.signed_out')).length;
      await b.post(`${tool.url}/admin/logout`, { _csrf: csrf }, { headers: { origin: tool.url } });
      expect((await copy.get(`${tool.url}/admin`)).status).to.equal(401);
      expect(await audited('admin.signed_out')).to.have.length(before + 1);
    });

    it('a new ADMIN_PASSWORD ends the sessions signed in with the old one, in every process', async () => {
      const b = new HttpBrowser();
      expect((await signIn(b, PASSWORD, freshIp())).status).to.equal(303);
      const cookie = adminCookie(b);
      const changed = await startTool(tdb, { adminPassword: 'a-brand-new-password', trustProxy: 'true' });
      try {
        const there = new HttpBrowser();
        there.setCookie(changed.url, `${cookie}; Path=/admin`);
        expect((await there.get(`${changed.url}/admin`)).status).to.equal(401);
      } finally {
        await changed.close();
      }
    });

    // Last: it leaves the overall budget spent for a while.
    it('guesses from many addresses hold up new browsers, never a browser that signed in before', async () => {
      const known = new HttpBrowser();
      expect((await signIn(known, PASSWORD, freshIp())).status).to.equal(303);
      const home = await known.get(`${tool.url}/admin`);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(home.body)![1]!;
      expect((await known.post(`${tool.url}/admin/logout`, { _csrf: csrf }, { headers: { origin: tool.url }, followRedirects: false })).status).to.equal(303);

      // One wrong password from each of many addresses: past twenty, everyone without the device cookie waits, longer and longer.
      let wait = 0;
      for (let i = 0; i < 200 && wait < 8; i++) {
        const r = await signIn(new HttpBrowser(), `botnet-${i}`, freshIp());
        if (r.status === 429) {
          wait = Number(r.headers.get('retry-after'));
          if (wait < 8) await sleep(wait * 1000 + 100);
        } else expect(r.status).to.equal(401);
      }
      expect(wait).to.be.at.least(8);
      expect((await signIn(new HttpBrowser(), PASSWORD, freshIp())).status, 'a new browser waits').to.equal(429);
      const back = await signIn(known, PASSWORD, freshIp());
      expect(back.status, 'the known browser, from yet another address').to.equal(303);
      expect((await known.get(`${tool.url}/admin`)).status).to.equal(200);
    });
  });
}
