import { expect } from 'chai';
import { MoodleSim } from '../platform';
import { HttpBrowser, launch, parseForm, type LaunchHelperOptions } from '../support/http-browser';
import { testDialects, type TestDatabase } from '../support/db';
import { registerDynamically, startTool, type RunningTool } from '../support/tool';

const CLAIM_DEPLOYMENT = 'https://purl.imsglobal.org/spec/lti/claim/deployment_id';

for (const dialect of testDialects()) {
  describe(`LTI 1.3 registration and launch on ${dialect.name}`, function () {
    this.timeout(30_000);
    let tdb: TestDatabase;
    let tool: RunningTool;
    let sim: MoodleSim;
    let clientId: string;
    let courseId: string;
    let teacherId: string;
    let studentId: string;
    let activityId: string;

    before(async () => {
      tdb = await dialect.create();
      tool = await startTool(tdb);
      sim = await MoodleSim.start();
      clientId = await registerDynamically(sim, tool.jejak.urls.registration);
      const seeded = sim.seedDefault();
      courseId = seeded.course.id;
      teacherId = seeded.teacher.id;
      studentId = seeded.students[0].id;
      activityId = sim.addActivity({ courseId, clientId, title: 'Pecahan', lineItem: { scoreMaximum: 100, label: 'Pecahan' } });
    });
    after(async () => {
      await sim?.close();
      await tool?.close();
      await tdb?.drop();
    });

    const studentLaunch = (extra: Partial<LaunchHelperOptions> = {}) => launch(sim, { clientId, userId: studentId, courseId, activityId, ...extra });
    // Only refusals logged since the current test began count.
    let logMark = 0;
    beforeEach(() => {
      logMark = tool.logs.length;
    });
    const refusalLogged = (reason: string) => tool.logs.slice(logMark).some((l) => l.msg === 'refused' && l.reason === reason);

    describe('dynamic registration', () => {
      it('registered the platform with the deployment id Moodle answered, asking for what Moodle checks', async () => {
        const simTool = sim.tool(clientId);
        expect(simTool.source).to.equal('dynamic');
        expect(simTool.deepLinking).to.equal(true);
        expect(simTool.gradeSync).to.equal(2);
        expect(simTool.memberships).to.equal(true);
        const ours = await tool.jejak.platforms.get(sim.issuer, clientId);
        expect(ours?.deploymentIds).to.deep.equal(simTool.deploymentIds);
        expect(ours?.source).to.equal('dynamic');
      });

      it('refuses a registration URL without the install key with a 403 page', async () => {
        const browser = new HttpBrowser();
        const url = sim.dynamicRegistrationUrl(tool.url + '/lti/register?key=wrong-key-0123456789');
        const page = await browser.get(url);
        expect(page.status).to.equal(403);
        expect(page.body).to.contain('registration URL printed when Jejak started');
        const post = await browser.post(tool.url + '/lti/register', { key: 'nope', openid_configuration: sim.issuer + '/mod/lti/openid-configuration.php' });
        expect(post.status).to.equal(403);
      });

      it('explains a registration the platform refuses (expired registration token)', async () => {
        const browser = new HttpBrowser();
        const url = new URL(sim.dynamicRegistrationUrl(tool.jejak.urls.registration));
        url.searchParams.set('registration_token', sim.registrationToken({ expiresIn: -10 }));
        const page = await browser.get(url.toString());
        const done = await browser.submitForm(parseForm(page.body, page.url)!);
        expect(done.status).to.equal(502);
        expect(done.body).to.contain('Registration with the LMS failed');
        expect(done.body).not.to.match(/at \w+ \(/);
      });
    });

    describe('launches', () => {
      it('a learner reaches the student home, inside the course iframe', async () => {
        const r = await studentLaunch();
        expect(r.final.status, r.final.body).to.equal(200);
        expect(r.final.url).to.match(/\/s\/[\w-]+\/$/);
        expect(r.final.body).to.contain('Your practice');
        expect(r.final.body).to.contain(sim.course(courseId).title);
        expect(r.authParams).to.include({ response_mode: 'form_post', prompt: 'none', scope: 'openid', response_type: 'id_token' });
        const cookies = r.browser.jar.all().filter((c) => c.name.startsWith('jejak_'));
        expect(cookies.length).to.be.greaterThan(0);
        for (const c of cookies) expect([c.sameSite, c.secure]).to.deep.equal(['None', true]);
      });

      it('accepts the login initiation as GET as well as POST', async () => {
        const r = await studentLaunch({ method: 'GET' });
        expect(r.loginParams).to.include({ login_hint: studentId });
        const login = r.steps.find((s) => s.name === 'toolLogin');
        expect(login?.method).to.equal('GET');
        expect(r.final.status).to.equal(200);
        expect(r.final.url).to.match(/\/s\/[\w-]+\/$/);
      });

      it('an instructor reaches the teacher home, in Bahasa Indonesia when the launch says so', async () => {
        const r = await launch(sim, { clientId, userId: teacherId, courseId, activityId, locale: 'id' });
        expect(r.final.status).to.equal(200);
        expect(r.final.body).to.contain('Beranda guru');
        expect(r.final.body).to.contain('lang="id"');
      });

      it('a deep-linking request from the teacher opens content selection', async () => {
        const r = await launch(sim, { clientId, userId: teacherId, courseId, messageType: 'LtiDeepLinkingRequest' });
        expect(r.final.status).to.equal(200);
        expect(r.final.body).to.contain('Add Jejak to your course');
      });

      it('the session page refuses another browser (no session cookie)', async () => {
        const r = await studentLaunch();
        const other = await new HttpBrowser().get(r.final.url);
        expect(other.status).to.equal(401);
        expect(other.body).to.contain('Your session has ended');
      });

      it('tolerates clocks a minute apart (token dated 60 s ahead, or just expired)', async () => {
        const ahead = await studentLaunch({ tamper: { iatOffsetSec: 60 } });
        expect(ahead.final.status, ahead.final.body).to.equal(200);
        const late = await studentLaunch({ tamper: { iatOffsetSec: -90 } });
        expect(late.final.status, late.final.body).to.equal(200);
      });
    });

    describe('refused launches say why, in the user\'s language, and log the precise reason', () => {
      const cases: [string, string, Partial<LaunchHelperOptions>][] = [
        ['signed with a key the platform does not publish', 'bad_signature', { tamper: { key: 'other' } }],
        ['an unknown kid', 'bad_signature', { tamper: { key: 'other', kid: 'not-a-kid' } }],
        ['alg none', 'bad_token', { tamper: { alg: 'none' } }],
        ['alg HS256', 'bad_token', { tamper: { alg: 'HS256' } }],
        ['another issuer', 'wrong_issuer', { tamper: { claims: { iss: 'http://evil.example' } } }],
        ['another audience', 'wrong_audience', { tamper: { claims: { aud: 'someone-else' } } }],
        ['several audiences and no azp', 'wrong_audience', { tamper: { claims: (c) => ({ ...c, aud: [c.aud, 'other'] }) } }],
        ['an azp that is not us', 'wrong_audience', { tamper: { claims: { azp: 'other' } } }],
        ['expired long ago', 'expired', { tamper: { iatOffsetSec: -1000 } }],
        ['dated in the future beyond the skew', 'not_yet_valid', { tamper: { iatOffsetSec: 600 } }],
        ['issued too long ago though not expired', 'too_old', { tamper: { iatOffsetSec: -1000, expiresIn: 7200 } }],
        ['a nonce not sent with this login', 'nonce_mismatch', { tamper: { claims: { nonce: 'forged-nonce' } } }],
        ['an unknown message type', 'bad_message_type', { tamper: { claims: { 'https://purl.imsglobal.org/spec/lti/claim/message_type': 'LtiStartProctoring' } } }],
        ['LTI version 1.1', 'bad_version', { tamper: { claims: { 'https://purl.imsglobal.org/spec/lti/claim/version': '1.1' } } }],
        ['an unregistered deployment id', 'unknown_deployment', { tamper: { claims: { [CLAIM_DEPLOYMENT]: '999' } } }],
        ['no sub', 'missing_claim', { tamper: { omit: ['sub'] } }],
        ['no roles', 'missing_claim', { tamper: { omit: ['https://purl.imsglobal.org/spec/lti/claim/roles'] } }],
        ['no resource link', 'missing_claim', { tamper: { omit: ['https://purl.imsglobal.org/spec/lti/claim/resource_link'] } }],
        ['no exp', 'missing_claim', { tamper: { omit: ['exp'] } }],
        ['a different target_link_uri', 'target_mismatch', { tamper: { claims: { 'https://purl.imsglobal.org/spec/lti/claim/target_link_uri': 'http://localhost:1/elsewhere' } } }],
      ];
      for (const [what, reason, opts] of cases) {
        it(`refuses ${what} (${reason})`, async () => {
          const r = await studentLaunch(opts);
          expect(r.final.status, r.final.body.slice(0, 400)).to.be.within(400, 499);
          expect(r.final.body).to.contain('Jejak could not open');
          expect(r.final.body).to.match(/<code>[0-9a-f]{12}<\/code>/);
          expect(r.final.body).not.to.match(/\bat \S+ \(|Error:/);
          expect(refusalLogged(reason), `log reason ${reason}`).to.equal(true);
          expect(r.final.url).not.to.match(/\/s\//);
        });
      }

      it('words the refusal in Bahasa Indonesia for an Indonesian launch', async () => {
        const r = await studentLaunch({ locale: 'id', tamper: { key: 'other' } });
        expect(r.final.status).to.equal(400);
        expect(r.final.body).to.contain('Jejak tidak dapat dibuka');
        expect(r.final.body).to.contain('Tanda tangan token peluncuran');
      });

      it('refuses a replayed id_token and state', async () => {
        const first = await studentLaunch({ stopBefore: 'toolLaunch' });
        const post = () => first.browser.post(first.authForm!.action, first.authForm!.fields, { context: first.context });
        expect((await post()).status).to.equal(200);
        const again = await post();
        expect(again.status).to.equal(400);
        expect(refusalLogged('unknown_state')).to.equal(true);
      });

      it('refuses an old id_token posted with a fresh login\'s state (nonce bound to its login)', async () => {
        const old = await studentLaunch({ stopBefore: 'toolLaunch' });
        const fresh = await studentLaunch({ stopBefore: 'toolLaunch', browser: old.browser });
        const r = await old.browser.post(fresh.authForm!.action, { id_token: old.idToken!, state: fresh.state! }, { context: old.context });
        expect(r.status).to.equal(400);
        expect(refusalLogged('nonce_mismatch')).to.equal(true);
      });

      it('refuses a launch whose state cookie is in another browser', async () => {
        const r = await studentLaunch({ stopBefore: 'toolLaunch' });
        const thief = new HttpBrowser();
        const stolen = await thief.post(r.authForm!.action, r.authForm!.fields, { context: r.context });
        expect(stolen.status).to.equal(400);
        expect(refusalLogged('browser_mismatch')).to.equal(true);
        // The rightful browser can still finish its launch.
        const own = await r.browser.post(r.authForm!.action, r.authForm!.fields, { context: r.context });
        expect(own.status).to.equal(200);
      });

      it('refuses a POST with no id_token, and a made-up state', async () => {
        const b = new HttpBrowser();
        expect((await b.post(tool.url + '/lti/launch', {})).status).to.equal(400);
        const claims = sim.launchClaims({ clientId, userId: studentId, courseId, activityId });
        const r = await b.post(tool.url + '/lti/launch', { id_token: sim.mintIdToken(claims), state: 'made-up' });
        expect(r.status).to.equal(400);
        expect(r.body).to.contain('expired or was already used');
      });

      it('refuses login initiations it cannot honour', async () => {
        const b = new HttpBrowser();
        const base = { iss: sim.issuer, login_hint: studentId, target_link_uri: tool.url + '/lti/launch', client_id: clientId };
        const cases: [Record<string, string>, string][] = [
          [{ ...base, iss: 'http://unknown.example' }, 'unknown_platform'],
          [{ ...base, client_id: 'nobody' }, 'unknown_platform'],
          [{ ...base, lti_deployment_id: '12345' }, 'unknown_deployment'],
          [{ ...base, target_link_uri: 'https://evil.example/phish' }, 'bad_target'],
          [{ iss: sim.issuer }, 'missing_params'],
        ];
        for (const [params, reason] of cases) {
          const r = await b.post(tool.url + '/lti/login', params);
          expect(r.status, reason).to.equal(400);
          expect(refusalLogged(reason), reason).to.equal(true);
        }
      });
    });

    describe('third-party cookies blocked (Moodle 5.1: no platform storage)', () => {
      it('offers to continue in a new window, where the launch completes', async () => {
        const r = await studentLaunch({ blockThirdPartyCookies: true });
        expect(r.final.status).to.equal(200);
        expect(r.final.body).to.contain('Open Jejak in a new window');
        const form = parseForm(r.final.body, r.final.url)!;
        expect(form.target).to.equal('_blank');
        // The new window is top-level: the tool's cookies are first-party there.
        let page = await r.browser.submitForm(form, { context: {} });
        for (let i = 0; i < 4 && /<form[^>]*>/.test(page.body) && !page.url.includes('/s/'); i++) {
          page = await r.browser.submitAutoForm(page.body, page.url, { context: {} });
        }
        expect(page.status, page.body.slice(0, 300)).to.equal(200);
        expect(page.url).to.match(/\/s\/[\w-]+\/$/);
        expect(page.body).to.contain('Your practice');
      });
    });

    describe('tenants', () => {
      let sim2: MoodleSim;
      after(async () => sim2?.close());

      it('keeps two platforms with the same course id apart', async () => {
        sim2 = await MoodleSim.start();
        const client2 = await registerDynamically(sim2, tool.jejak.urls.registration);
        const seeded = sim2.seedDefault();
        sim2.courses.get(seeded.course.id)!.title = 'Another School Course';
        const act2 = sim2.addActivity({ courseId: seeded.course.id, clientId: client2, title: 'Desimal' });
        expect(seeded.course.id).to.equal(courseId);
        const a = await studentLaunch();
        const b = await launch(sim2, { clientId: client2, userId: seeded.students[0].id, courseId: seeded.course.id, activityId: act2 });
        expect(a.final.body).to.contain(sim.course(courseId).title);
        expect(b.final.body).to.contain('Another School Course');
        expect(b.final.body).not.to.contain(sim.course(courseId).title);
        const db = tool.jejak.conn.db;
        const contexts = await db.selectFrom('course_context').selectAll().where('context_id', '=', courseId).execute();
        expect(contexts).to.have.length(2);
        expect(new Set(contexts.map((c) => c.tenant_id)).size).to.equal(2);
        const tenantA = await tool.jejak.platforms.tenantId(sim.issuer, clientId, sim.tool(clientId).deploymentIds[0]);
        const titleA = contexts.find((c) => c.tenant_id === tenantA)?.title;
        expect(titleA).to.equal(sim.course(courseId).title);
      });
    });
  });
}
