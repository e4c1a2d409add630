import { expect } from 'chai';
import { MoodleSim } from '../platform';
import { testDialects, type TestDatabase } from '../support/db';
import { registerTool, startTool, type RunningTool } from '../support/tool';

for (const dialect of testDialects()) {
  describe(`what an unverified login may store, and its binding to one browser (${dialect.name})`, function () {
    this.timeout(60_000);
    let tdb: TestDatabase;
    let tool: RunningTool;
    let sim: MoodleSim;
    let clientId: string;
    let spec: { clientId: string; userId: string; courseId: string; activityId: string };
    before(async () => {
      tdb = await dialect.create();
      tool = await startTool(tdb, { trustProxy: 'true', rateLimits: { windowSeconds: 60, login: { perIp: 100, pendingPerIp: 3 }, launch: { perIp: 100, perIssuer: 100 }, registration: { perIp: 5 } } });
      sim = await MoodleSim.start({ storageTarget: true });
      clientId = await registerTool(sim, tool);
      const { course, students } = sim.seedDefault();
      spec = { clientId, userId: students[0]!.id, courseId: course.id, activityId: sim.addActivity({ courseId: course.id, clientId, title: 'Pecahan' }) };
    });
    after(async () => {
      await sim?.close();
      await tool?.close();
      await tdb?.drop();
    });

    const pendingLogins = async () => Number((await tool.jejak.conn.db.selectFrom('oidc_login').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    /** A login initiation as the LMS sends it, from `ip`, with some parameters replaced; the tool's answer, not followed. */
    const initiate = (ip: string, extra: Record<string, string> = {}, lang = 'en') => {
      const params = new URLSearchParams({ ...sim.loginInitiation(spec).params, ...extra });
      return fetch(`${tool.url}/lti/login`, {
        method: 'POST', redirect: 'manual', body: params,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip, 'accept-language': lang },
      });
    };
    const continuation = (location: string, ip: string) => fetch(new URL(location, tool.url), { redirect: 'manual', headers: { 'x-forwarded-for': ip } });

    it('refuses an oversize login parameter with 400 and a clear message, storing nothing', async () => {
      const before = await pendingLogins();
      for (const [field, lang, text] of [
        ['login_hint', 'en', 'longer than Jejak accepts'],
        ['lti_message_hint', 'id', 'lebih panjang daripada yang diterima Jejak'],
      ] as const) {
        const r = await initiate('198.51.100.20', { [field]: 'x'.repeat(20_000) }, lang);
        expect(r.status, field).to.equal(400);
        const body = await r.text();
        expect(body).to.contain(text);
        expect(body).not.to.match(/\bat \S+ \(/);
      }
      expect(await pendingLogins()).to.equal(before);
    });

    it('caps the unfinished logins one address may keep stored; other addresses are not affected', async () => {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await initiate('198.51.100.30')).status);
      expect(statuses).to.deep.equal([303, 303, 303, 429]);
      const refused = await initiate('198.51.100.30', {}, 'id');
      expect(refused.status).to.equal(429);
      expect(await refused.text()).to.contain('belum selesai');
      expect((await initiate('198.51.100.31')).status).to.equal(303);
    });

    it('binds a platform-storage login once: a second continuation of the same state, from anywhere, is refused', async () => {
      const started = await initiate('198.51.100.40');
      expect(started.status).to.equal(303);
      const location = started.headers.get('location')!;
      const state = new URL(location, tool.url).searchParams.get('state')!;
      // No cookie came back (third-party cookies blocked): the first continuation puts a value into platform storage.
      const first = await continuation(location, '198.51.100.40');
      expect(first.status).to.equal(200);
      expect(await first.text()).to.match(/data-mode="put"[^>]*data-value="[\w-]{20,}"/);
      const bound = await tool.jejak.conn.db.selectFrom('oidc_login').select(['browser_binding', 'binding_kind']).where('state', '=', state).executeTakeFirstOrThrow();
      expect(bound.binding_kind).to.equal('platform');
      // Whoever learns the state cannot re-bind it to a value of their own.
      for (const ip of ['203.0.113.9', '198.51.100.40']) {
        const again = await continuation(location, ip);
        expect(again.status).to.equal(400);
        expect(await again.text()).not.to.contain('data-mode="put"');
      }
      const after = await tool.jejak.conn.db.selectFrom('oidc_login').select(['browser_binding', 'binding_kind']).where('state', '=', state).executeTakeFirstOrThrow();
      expect(after).to.deep.equal(bound);
    });

    it('a cookie-bound login continued by its browser cannot be switched to platform storage afterwards', async () => {
      const started = await initiate('198.51.100.50');
      const location = started.headers.get('location')!;
      const cookie = started.headers.getSetCookie()[0]!.split(';')[0]!;
      const first = await fetch(new URL(location, tool.url), { redirect: 'manual', headers: { cookie, 'x-forwarded-for': '198.51.100.50' } });
      expect(first.status).to.equal(303);
      expect(first.headers.get('location')).to.contain(sim.authUrl);
      const stranger = await continuation(location, '203.0.113.9');
      expect(stranger.status).to.equal(400);
    });
  });
}
