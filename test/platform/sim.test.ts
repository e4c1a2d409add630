/**
 * Tests of the Moodle-like platform simulator itself (and of the HTTP browser), against a minimal
 * tool (./mini-tool.ts). Run: npx mocha test/platform/sim.test.ts
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { MoodleSim, LTI, MEDIA, SCOPES, type SimCourse, type SimUser } from './index';
import { MiniTool } from './mini-tool';
import { HttpBrowser, launch, parseForm, parseIframeSrc, siteOf } from '../support/http-browser';

const FIXTURES = '/work/shared/moodle';

function fixture(name: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  return JSON.parse(readFileSync(`${FIXTURES}/${name}`, 'utf8'));
}

interface World {
  sim: MoodleSim;
  tool: MiniTool;
  clientId: string;
  deploymentId: string;
  course: SimCourse;
  teacher: SimUser;
  students: SimUser[];
  activityId: string;
}

async function world(opts: { storageTarget?: boolean; cookieSameSite?: 'None' | 'Lax' | 'unset'; shareName?: boolean } = {}): Promise<World> {
  const sim = await MoodleSim.start({ storageTarget: opts.storageTarget });
  const tool = await MiniTool.start({ issuer: sim.issuer, platformJwksUrl: sim.jwksUrl, authUrl: sim.authUrl, cookieSameSite: opts.cookieSameSite });
  const { clientId, deploymentId } = sim.addTool({
    loginUrl: tool.loginUrl,
    redirectUris: [tool.redirectUri],
    jwksUrl: tool.jwksUrl,
    targetLinkUri: tool.url,
    deepLinkingUrl: `${tool.url}/dl`,
    shareName: opts.shareName ?? true,
    shareEmail: opts.shareName ?? true,
  });
  tool.clientId = clientId;
  const { course, teacher, students } = sim.seedDefault();
  const activityId = sim.addActivity({ courseId: course.id, clientId, title: 'Practice 1', custom: { example: 'yes' }, lineItem: { scoreMaximum: 100 } });
  return { sim, tool, clientId, deploymentId, course, teacher, students, activityId };
}

async function closeWorld(w: World | undefined): Promise<void> {
  if (!w) return;
  await w.tool.close();
  await w.sim.close();
}

/** Auth request parameters a well-behaved tool sends, for a login initiation. */
function authParams(w: World, init: { params: Record<string, string> }, over: Record<string, string | undefined> = {}): Record<string, string> {
  const p: Record<string, string | undefined> = {
    scope: 'openid',
    response_type: 'id_token',
    response_mode: 'form_post',
    prompt: 'none',
    client_id: init.params.client_id,
    redirect_uri: w.tool.redirectUri,
    login_hint: init.params.login_hint,
    lti_message_hint: init.params.lti_message_hint,
    state: 'st-1',
    nonce: 'n-1',
    ...over,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) if (v !== undefined) out[k] = v;
  return out;
}

async function callAuth(w: World, params: Record<string, string>, cookie?: string, method: 'GET' | 'POST' = 'GET'): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = cookie ? { cookie } : {};
  let res: Response;
  if (method === 'GET') {
    const u = new URL(w.sim.authUrl);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    res = await fetch(u, { headers, redirect: 'manual' });
  } else {
    res = await fetch(w.sim.authUrl, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) });
  }
  return { status: res.status, body: await res.text() };
}

async function getToken(w: World, scope: string): Promise<string> {
  const assertion = await w.tool.clientAssertion(w.sim.tokenUrl);
  const res = await fetch(w.sim.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      scope,
    }),
  });
  const body = (await res.json()) as { access_token: string };
  expect(res.status, JSON.stringify(body)).to.equal(200);
  return body.access_token;
}

function postScore(url: string, token: string, body: Record<string, unknown>, contentType: string = MEDIA.score): Promise<Response> {
  return fetch(MoodleSim.scoresUrl(url), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body: JSON.stringify(body) });
}

describe('MoodleSim (test platform)', function () {
  this.timeout(10000);

  describe('discovery, keys and id_tokens', () => {
    let w: World;
    before(async () => {
      w = await world();
    });
    after(() => closeWorld(w));

    it('publishes an OpenID configuration like Moodle', async () => {
      const cfg = (await (await fetch(w.sim.openidConfigurationUrl)).json()) as Record<string, unknown>;
      expect(cfg.issuer).to.equal(w.sim.issuer);
      expect(cfg.authorization_endpoint).to.equal(`${w.sim.issuer}/mod/lti/auth.php`);
      expect(cfg.token_endpoint).to.equal(`${w.sim.issuer}/mod/lti/token.php`);
      expect(cfg.jwks_uri).to.equal(`${w.sim.issuer}/mod/lti/certs.php`);
      expect(cfg.registration_endpoint).to.equal(`${w.sim.issuer}/mod/lti/openid-registration.php`);
      expect(cfg.scopes_supported).to.include.members(['openid', SCOPES.lineItem, SCOPES.score, SCOPES.nrps]);
      expect(cfg.response_types_supported).to.deep.equal(['id_token']);
      expect(cfg.id_token_signing_alg_values_supported).to.deep.equal(['RS256']);
      expect(cfg.token_endpoint_auth_methods_supported).to.deep.equal(['private_key_jwt']);
      const pc = cfg[LTI.platformConfiguration] as Record<string, unknown>;
      expect(pc.product_family_code).to.equal('moodle');
      expect(pc.messages_supported).to.include('LtiDeepLinkingRequest');
    });

    it("issues id_tokens its JWKS verifies, with Moodle's claim set", async () => {
      const learner = w.students[0]!;
      const init = w.sim.loginInitiation({ clientId: w.clientId, userId: learner.id, courseId: w.course.id, activityId: w.activityId });
      expect(Object.keys(init.params)).to.have.members(Object.keys(fixture('../moodle/login-initiation.json')));
      expect(JSON.parse(init.params.lti_message_hint!)).to.have.keys('cmid', 'launchid');
      const r = await callAuth(w, authParams(w, init), init.cookie);
      expect(r.status).to.equal(200);
      const form = parseForm(r.body, w.sim.authUrl)!;
      expect(form.action).to.equal(w.tool.redirectUri);
      expect(form.method).to.equal('POST');
      expect(form.fields.state).to.equal('st-1');
      const jwks = (await (await fetch(w.sim.jwksUrl)).json()) as { keys: Array<Record<string, unknown>> };
      const { payload, protectedHeader } = await jwtVerify(form.fields.id_token!, createLocalJWKSet(jwks as never), { issuer: w.sim.issuer, audience: w.clientId });
      expect(protectedHeader.kid).to.equal(w.sim.kid).and.match(/^[0-9a-f]{20}$/);
      expect(protectedHeader.typ).to.equal('JWT');
      const fx = fixture('id_token-LtiResourceLinkRequest-Learner.json');
      expect(Object.keys(payload)).to.have.members(Object.keys(fx.payload));
      expect(payload.exp! - payload.iat!).to.equal(60);
      expect(payload.nonce).to.equal('n-1');
      expect(payload.sub).to.equal(learner.id);
      expect(payload[LTI.roles]).to.deep.equal(['http://purl.imsglobal.org/vocab/lis/v2/membership#Learner']);
      expect(payload[LTI.deploymentId]).to.equal(w.deploymentId);
      const ags = payload[LTI.agsEndpoint] as Record<string, unknown>;
      expect(ags.lineitems).to.equal(`${w.sim.issuer}/mod/lti/services.php/${w.course.id}/lineitems?type_id=${w.deploymentId}`);
      expect(ags.lineitem).to.match(new RegExp(`/mod/lti/services\\.php/${w.course.id}/lineitems/\\d+/lineitem\\?type_id=${w.deploymentId}$`));
      expect(ags.scope).to.deep.equal((fx.payload[LTI.agsEndpoint] as Record<string, unknown>).scope);
      const custom = payload[LTI.custom] as Record<string, string>;
      expect(custom.example).to.equal('yes');
      expect(custom.context_memberships_url).to.equal(`${w.sim.issuer}/mod/lti/services.php/CourseSection/${w.course.id}/bindings/${w.deploymentId}/memberships`);
      expect((payload[LTI.launchPresentation] as Record<string, unknown>).document_target).to.equal('iframe');
    });

    it('sends Moodle-like deep linking settings to an instructor', async () => {
      const init = w.sim.loginInitiation({ clientId: w.clientId, userId: w.teacher.id, courseId: w.course.id, messageType: 'LtiDeepLinkingRequest', dlData: 'opaque' });
      expect(init.params.target_link_uri).to.equal(`${w.tool.url}/dl`);
      const r = await callAuth(w, authParams(w, init), init.cookie);
      const claims = decodeJwt(parseForm(r.body, w.sim.authUrl)!.fields.id_token!);
      expect(claims[LTI.messageType]).to.equal('LtiDeepLinkingRequest');
      expect(claims).to.not.have.property(LTI.resourceLink);
      const s = claims[LTI.dlSettings] as Record<string, unknown>;
      expect(s.accept_types).to.deep.equal(['ltiResourceLink']);
      expect(s.accept_multiple).to.equal(true);
      expect(s.auto_create).to.equal(false);
      expect(s.accept_presentation_document_targets).to.deep.equal(['frame', 'iframe', 'window']);
      expect(s.data).to.equal('opaque');
      expect(s.deep_link_return_url).to.match(new RegExp(`/mod/lti/contentitem_return\\.php\\?course=${w.course.id}&id=${w.deploymentId}&sesskey=\\w{10}$`));
    });

    it('mints tampered tokens on request', () => {
      const base = w.sim.launchClaims({ clientId: w.clientId, userId: w.students[0]!.id, courseId: w.course.id, activityId: w.activityId, nonce: 'x' });
      const t1 = w.sim.mintIdToken({ ...base, aud: 'someone-else' }, { omit: [LTI.version], iatOffsetSec: -3600 });
      const c1 = decodeJwt(t1);
      expect(c1.aud).to.equal('someone-else');
      expect(c1).to.not.have.property(LTI.version);
      expect(c1.exp).to.be.below(Math.floor(Date.now() / 1000));
      expect(decodeProtectedHeader(w.sim.mintIdToken(base, { alg: 'none' })).alg).to.equal('none');
      expect(decodeProtectedHeader(w.sim.mintIdToken(base, { kid: 'nope', key: 'other' })).kid).to.equal('nope');
    });
  });

  describe('dynamic registration', () => {
    let w: World;
    before(async () => {
      w = await world();
    });
    after(() => closeWorld(w));

    function registration(over: Record<string, unknown> = {}, cfgOver: Record<string, unknown> = {}): Record<string, unknown> {
      return {
        application_type: 'web',
        response_types: ['id_token'],
        grant_types: ['implicit', 'client_credentials'],
        initiate_login_uri: w.tool.loginUrl,
        redirect_uris: [w.tool.redirectUri],
        client_name: 'Jejak',
        jwks_uri: w.tool.jwksUrl,
        token_endpoint_auth_method: 'private_key_jwt',
        scope: [SCOPES.lineItem, SCOPES.score, SCOPES.resultReadOnly, SCOPES.nrps].join(' '),
        [LTI.toolConfiguration]: {
          domain: new URL(w.tool.url).host,
          target_link_uri: w.tool.url,
          claims: ['iss', 'sub'],
          messages: [{ type: 'LtiDeepLinkingRequest', target_link_uri: `${w.tool.url}/dl` }],
          ...cfgOver,
        },
        ...over,
      };
    }

    async function register(body: unknown, token?: string | null): Promise<{ status: number; text: string }> {
      const u = new URL(w.sim.dynamicRegistrationUrl(`${w.tool.url}/register?key=abc`));
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      const t = token === undefined ? u.searchParams.get('registration_token')! : token;
      if (t !== null) headers.authorization = `Bearer ${t}`;
      const res = await fetch(w.sim.registrationEndpoint, { method: 'POST', headers, body: JSON.stringify(body) });
      return { status: res.status, text: await res.text() };
    }

    it('appends openid_configuration and a 1 h RS256 registration_token to the tool URL', async () => {
      const u = new URL(w.sim.dynamicRegistrationUrl(`${w.tool.url}/register?key=abc`));
      expect(u.searchParams.get('key')).to.equal('abc');
      expect(u.searchParams.get('openid_configuration')).to.equal(w.sim.openidConfigurationUrl);
      const jwks = (await (await fetch(w.sim.jwksUrl)).json()) as never;
      const { payload, protectedHeader } = await jwtVerify(u.searchParams.get('registration_token')!, createLocalJWKSet(jwks));
      expect(protectedHeader.alg).to.equal('RS256');
      expect(payload.exp! - payload.iat!).to.equal(3600);
    });

    it('registers a good registration as pending, answers client_id and deployment_id, and launches only once activated', async () => {
      const r = await register(registration());
      expect(r.status, r.text).to.equal(200);
      const body = JSON.parse(r.text) as Record<string, unknown>;
      const cfg = body[LTI.toolConfiguration] as Record<string, unknown>;
      expect(body.client_id).to.be.a('string');
      expect(cfg.deployment_id).to.match(/^\d+$/);
      expect(body.scope).to.include(SCOPES.lineItem);
      const t = w.sim.tools.get(String(body.client_id))!;
      expect(t.state).to.equal('pending');
      expect(t.deepLinking).to.equal(true);
      expect(t.gradeSync).to.equal(2);
      expect(t.shareName).to.equal(false);
      w.tool.clientId = t.clientId;
      const act = w.sim.addActivity({ courseId: w.course.id, clientId: t.clientId, title: 'Dyn' });
      const init = w.sim.loginInitiation({ clientId: t.clientId, userId: w.students[0]!.id, courseId: w.course.id, activityId: act });
      const refused = await callAuth(w, authParams(w, init), init.cookie);
      expect(refused.status).to.equal(403);
      const page = await fetch(w.sim.launchPageUrl({ clientId: t.clientId, userId: w.students[0]!.id, courseId: w.course.id, activityId: act }));
      expect(page.status).to.equal(403);
      w.sim.activateTool(t.clientId);
      const init2 = w.sim.loginInitiation({ clientId: t.clientId, userId: w.students[0]!.id, courseId: w.course.id, activityId: act });
      const ok = await callAuth(w, authParams(w, init2), init2.cookie);
      expect(ok.status).to.equal(200);
      const claims = decodeJwt(parseForm(ok.body, w.sim.authUrl)!.fields.id_token!);
      expect(claims[LTI.deploymentId]).to.equal(cfg.deployment_id);
      expect(claims).to.not.have.any.keys('name', 'given_name', 'family_name', 'email');
      w.tool.clientId = w.clientId;
    });

    it('refuses a reused, missing or invalid registration token', async () => {
      const u = new URL(w.sim.dynamicRegistrationUrl(w.tool.url));
      const token = u.searchParams.get('registration_token')!;
      expect((await register(registration(), token)).status).to.equal(200);
      expect(await register(registration(), token)).to.deep.equal({ status: 401, text: 'token_already_used' });
      expect(await register(registration(), null)).to.deep.equal({ status: 401, text: 'missing_registration_token' });
      expect((await register(registration(), w.sim.mintIdToken({ sub: 'x', scope: 'reg' }, { key: 'other' }))).status).to.equal(401);
      expect((await register(registration(), w.sim.registrationToken({ expiresIn: -10 }))).status).to.equal(401);
    });

    const bad: Array<[string, Record<string, unknown>, Record<string, unknown>, string]> = [
      ['domain not matching target_link_uri', {}, { domain: 'elsewhere.example' }, 'domain_targetlinkuri_mismatch'],
      ['missing domain', {}, { domain: undefined }, 'missing_domain'],
      ['token_endpoint_auth_method not private_key_jwt', { token_endpoint_auth_method: 'client_secret_basic' }, {}, 'invalid_token_endpoint_auth_method'],
      ['response_types without id_token', { response_types: ['code'] }, {}, 'invalid_response_types'],
      ['missing redirect_uris', { redirect_uris: undefined }, {}, 'missing required attribute redirect_uris'],
      ['missing initiate_login_uri', { initiate_login_uri: undefined }, {}, 'missing required attribute initiate_login_uri'],
      ['missing jwks_uri', { jwks_uri: undefined }, {}, 'missing required attribute jwks_uri'],
      ['application_type not web', { application_type: 'native' }, {}, 'invalid_application_type'],
    ];
    for (const [what, over, cfgOver, message] of bad) {
      it(`refuses a registration with ${what}`, async () => {
        const before = w.sim.tools.size;
        const r = await register(JSON.parse(JSON.stringify(registration(over, cfgOver))));
        expect(r).to.deep.equal({ status: 400, text: message });
        expect(w.sim.tools.size).to.equal(before);
      });
    }
  });

  describe('auth.php', () => {
    let w: World;
    before(async () => {
      w = await world();
    });
    after(() => closeWorld(w));

    function start() {
      return w.sim.loginInitiation({ clientId: w.clientId, userId: w.students[0]!.id, courseId: w.course.id, activityId: w.activityId });
    }
    function postedError(body: string): Record<string, string> {
      const f = parseForm(body, w.sim.authUrl)!;
      expect(f.action).to.equal(w.tool.redirectUri);
      expect(f.fields).to.not.have.property('id_token');
      return f.fields;
    }

    it('accepts GET and POST', async () => {
      for (const m of ['GET', 'POST'] as const) {
        const init = start();
        const r = await callAuth(w, authParams(w, init), init.cookie, m);
        expect(parseForm(r.body, w.sim.authUrl)!.fields).to.have.property('id_token');
      }
    });

    const posted: Array<[string, Record<string, string | undefined>, string]> = [
      ['scope is not openid', { scope: 'profile' }, 'invalid_scope'],
      ['response_type is not id_token', { response_type: 'code' }, 'unsupported_response_type'],
      ['response_mode is not form_post', { response_mode: 'query' }, 'invalid_request'],
      ['prompt is login', { prompt: 'login' }, 'invalid_request'],
      ['nonce is missing', { nonce: undefined }, 'invalid_request'],
      ['login_hint is another user', { login_hint: '999' }, 'access_denied'],
      ['lti_message_hint is unknown', { lti_message_hint: '{"cmid":1,"launchid":"nope"}' }, 'invalid_request'],
    ];
    for (const [what, over, error] of posted) {
      it(`posts error=${error} to the redirect_uri when ${what}`, async () => {
        const init = start();
        const r = await callAuth(w, authParams(w, init, over), init.cookie);
        expect(r.status).to.equal(200);
        const f = postedError(r.body);
        expect(f.error).to.equal(error);
        expect(f.state).to.equal('st-1');
      });
    }

    it('refuses a second use of the lti_message_hint', async () => {
      const init = start();
      expect(parseForm((await callAuth(w, authParams(w, init), init.cookie)).body, w.sim.authUrl)!.fields).to.have.property('id_token');
      expect(postedError((await callAuth(w, authParams(w, init, { nonce: 'n-2' }), init.cookie)).body).error).to.equal('invalid_request');
    });

    it('refuses a client_id that is not the launched tool', async () => {
      const other = w.sim.addTool({ loginUrl: w.tool.loginUrl, redirectUris: [w.tool.redirectUri], jwksUrl: w.tool.jwksUrl, targetLinkUri: w.tool.url });
      const init = start();
      expect(postedError((await callAuth(w, authParams(w, init, { client_id: other.clientId }), init.cookie)).body).error).to.equal('unauthorized_client');
    });

    it('shows an error page (posts nothing) for a redirect_uri not registered exactly', async () => {
      const init = start();
      const r = await callAuth(w, authParams(w, init, { redirect_uri: `${w.tool.redirectUri}/` }), init.cookie);
      expect(r.status).to.equal(400);
      expect(parseForm(r.body, w.sim.authUrl)).to.equal(undefined);
    });

    it('shows an error page for an unknown client', async () => {
      const r = await callAuth(w, authParams(w, start(), { client_id: 'unknown', lti_message_hint: 'x' }), undefined, 'POST');
      expect(r.status).to.equal(200); // first the cross-site repost page…
      const again = await callAuth(w, { ...authParams(w, start(), { client_id: 'unknown', lti_message_hint: 'x' }), repost: '1' }, undefined, 'POST');
      expect(again.status).to.equal(400);
    });

    it('requires the browser session that started the launch (repost page, then refusal)', async () => {
      const init = start();
      const r = await callAuth(w, authParams(w, init));
      const repost = parseForm(r.body, w.sim.authUrl)!;
      expect(repost.action).to.equal(w.sim.authUrl);
      expect(repost.fields.repost).to.equal('1');
      const r2 = await callAuth(w, repost.fields, undefined, 'POST');
      expect(postedError(r2.body).error).to.equal('invalid_request');
      const other = start();
      const r3 = await callAuth(w, authParams(w, init), other.cookie);
      expect(postedError(r3.body).error).to.equal('invalid_request');
    });

    it('posts a tampered id_token when the launch asks for it', async () => {
      const init = w.sim.loginInitiation({
        clientId: w.clientId,
        userId: w.students[0]!.id,
        courseId: w.course.id,
        activityId: w.activityId,
        tamper: { claims: { [LTI.deploymentId]: '999' }, key: 'other' },
      });
      const token = parseForm((await callAuth(w, authParams(w, init), init.cookie)).body, w.sim.authUrl)!.fields.id_token!;
      expect(decodeJwt(token)[LTI.deploymentId]).to.equal('999');
      const jwks = (await (await fetch(w.sim.jwksUrl)).json()) as never;
      let failed = false;
      await jwtVerify(token, createLocalJWKSet(jwks)).catch(() => (failed = true));
      expect(failed).to.equal(true);
      expect(w.sim.authRequests.at(-1)!.idToken).to.equal(token);
    });
  });

  describe('token.php', () => {
    let w: World;
    before(async () => {
      w = await world();
    });
    after(() => closeWorld(w));

    async function tokenRequest(assertion: string, scope: string = SCOPES.score, extra: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
      const res = await fetch(w.sim.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
          scope,
          ...extra,
        }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    }

    it('grants the requested scopes the tool was given, verifying the assertion with the tool JWKS', async () => {
      const before = w.sim.stats.tokenRequests;
      const r = await tokenRequest(await w.tool.clientAssertion(w.sim.tokenUrl), `${SCOPES.score} ${SCOPES.lineItem} https://example.com/not-granted`);
      expect(r.status).to.equal(200);
      expect(r.body).to.include({ token_type: 'Bearer', expires_in: 3600, scope: `${SCOPES.score} ${SCOPES.lineItem}` });
      expect(r.body.access_token).to.be.a('string');
      expect(w.sim.stats.tokenRequests).to.equal(before + 1);
      // The issuer is accepted as audience too.
      expect((await tokenRequest(await w.tool.clientAssertion(w.sim.issuer))).status).to.equal(200);
    });

    it('refetches the JWKS on an unknown kid (key rotation)', async () => {
      await tokenRequest(await w.tool.clientAssertion(w.sim.tokenUrl));
      const fetches = w.sim.stats.jwksFetches;
      await w.tool.rotateKey();
      expect((await tokenRequest(await w.tool.clientAssertion(w.sim.tokenUrl))).status).to.equal(200);
      expect(w.sim.stats.jwksFetches).to.equal(fetches + 1);
      expect((await tokenRequest(await w.tool.clientAssertion(w.sim.tokenUrl))).status).to.equal(200);
      expect(w.sim.stats.jwksFetches).to.equal(fetches + 1);
    });

    it('refuses bad assertions and grants', async () => {
      const a = () => w.tool.clientAssertion(w.sim.tokenUrl);
      const now = Math.floor(Date.now() / 1000);
      const other = await MiniTool.start({ issuer: w.sim.issuer, platformJwksUrl: w.sim.jwksUrl, authUrl: w.sim.authUrl, freshKey: true });
      try {
        other.clientId = w.clientId;
        const cases: Array<[string, Promise<{ status: number; body: Record<string, unknown> }>, string]> = [
          ['wrong aud', tokenRequest(await w.tool.clientAssertion('https://elsewhere.example/token')), 'invalid_client'],
          ['expired', tokenRequest(await w.tool.clientAssertion(w.sim.tokenUrl, { iat: now - 600, exp: now - 300 })), 'invalid_client'],
          ['iss != sub', tokenRequest(await w.tool.clientAssertion(w.sim.tokenUrl, { iss: 'someone' })), 'invalid_client'],
          ['unknown client', tokenRequest(await w.tool.clientAssertion(w.sim.tokenUrl, { sub: 'nobody', iss: 'nobody' })), 'invalid_client'],
          ['signed by a key not in the JWKS', tokenRequest(await other.clientAssertion(w.sim.tokenUrl, {}, { kid: w.tool.currentKey.kid })), 'invalid_client'],
          ['no jti', tokenRequest(await w.tool.clientAssertion(w.sim.tokenUrl, { jti: undefined })), 'invalid_client'],
          ['wrong grant type', tokenRequest(await a(), SCOPES.score, { grant_type: 'password' }), 'unsupported_grant_type'],
          ['wrong assertion type', tokenRequest(await a(), SCOPES.score, { client_assertion_type: 'bearer' }), 'unsupported_grant_type'],
          ['no granted scope', tokenRequest(await a(), 'https://example.com/other'), 'invalid_scope'],
          ['not a JWT', tokenRequest('abc'), 'invalid_request'],
        ];
        for (const [what, p, error] of cases) {
          const r = await p;
          expect(r.status, what).to.equal(400);
          expect(r.body.error, what).to.equal(error);
        }
      } finally {
        await other.close();
      }
    });

    it('refuses a replayed assertion (jti)', async () => {
      const assertion = await w.tool.clientAssertion(w.sim.tokenUrl);
      expect((await tokenRequest(assertion)).status).to.equal(200);
      expect((await tokenRequest(assertion)).body.error).to.equal('invalid_client');
    });
  });

  describe('AGS', () => {
    let w: World;
    let token: string;
    let lineItemUrl: string;
    before(async () => {
      w = await world();
      token = await getToken(w, `${SCOPES.score} ${SCOPES.lineItem} ${SCOPES.resultReadOnly}`);
      lineItemUrl = w.sim.activityLineItem(w.activityId)!.url;
    });
    after(() => closeWorld(w));

    const score = (userId: string, ts: string, given = 80) => ({
      userId,
      scoreGiven: given,
      scoreMaximum: 100,
      activityProgress: 'Completed',
      gradingProgress: 'FullyGraded',
      timestamp: ts,
    });

    it('uses Moodle URL shapes: query string on line items, /scores before the query', () => {
      expect(lineItemUrl).to.match(new RegExp(`^${w.sim.issuer}/mod/lti/services\\.php/${w.course.id}/lineitems/\\d+/lineitem\\?type_id=${w.deploymentId}$`));
      expect(MoodleSim.scoresUrl(lineItemUrl)).to.equal(lineItemUrl.replace('/lineitem?', '/lineitem/scores?'));
    });

    it('accepts a valid score with 200 and an empty body, and records it', async () => {
      const s = w.students[0]!;
      const res = await postScore(lineItemUrl, token, score(s.id, '2026-01-01T10:00:00.100Z'));
      expect(res.status).to.equal(200);
      expect(await res.text()).to.equal('');
      const rec = w.sim.scores.at(-1)!;
      expect(rec.userId).to.equal(s.id);
      expect(rec.lineItemUrl).to.equal(lineItemUrl);
      expect(w.sim.grade(rec.lineItemId, s.id)!.scoreGiven).to.equal(80);
    });

    it('refuses a score not later (in whole seconds) than the stored one with 409', async () => {
      const s = w.students[1]!;
      expect((await postScore(lineItemUrl, token, score(s.id, '2026-01-01T10:00:00.100Z'))).status).to.equal(200);
      expect((await postScore(lineItemUrl, token, score(s.id, '2026-01-01T10:00:00.900Z'))).status).to.equal(409);
      expect((await postScore(lineItemUrl, token, score(s.id, '2026-01-01T09:59:00Z'))).status).to.equal(409);
      expect((await postScore(lineItemUrl, token, score(s.id, '2026-01-01T10:00:01Z', 90))).status).to.equal(200);
      expect(w.sim.grade(w.sim.activityLineItem(w.activityId)!.id, s.id)!.scoreGiven).to.equal(90);
    });

    it('validates scores', async () => {
      const s = w.students[2]!.id;
      const ts = '2026-02-01T00:00:00Z';
      expect((await postScore(lineItemUrl, token, score(s, ts), 'application/json')).status).to.equal(400);
      expect((await postScore(lineItemUrl, token, { ...score(s, ts), activityProgress: 'Done' })).status).to.equal(400);
      expect((await postScore(lineItemUrl, token, { ...score(s, ts), gradingProgress: 'Graded' })).status).to.equal(400);
      expect((await postScore(lineItemUrl, token, { ...score(s, ts), timestamp: 'yesterday' })).status).to.equal(400);
      expect((await postScore(lineItemUrl, token, { ...score(s, ts), scoreMaximum: undefined })).status).to.equal(400);
      expect((await postScore(lineItemUrl, token, score('999', ts))).status).to.equal(400);
      expect((await postScore(lineItemUrl, token, score(w.teacher.id, ts))).status).to.equal(400);
      expect((await postScore(lineItemUrl, 'bogus', score(s, ts))).status).to.equal(401);
      const noType = MoodleSim.scoresUrl(lineItemUrl).replace(/\?.*$/, '');
      const r = await fetch(noType, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': MEDIA.score }, body: JSON.stringify(score(s, ts)) });
      expect(r.status).to.not.equal(200);
    });

    it('creates, lists (with filters and paging), reads, updates and deletes line items', async () => {
      const lineitems = `${w.sim.issuer}/mod/lti/services.php/${w.course.id}/lineitems?type_id=${w.deploymentId}`;
      const create = (body: Record<string, unknown>) =>
        fetch(lineitems, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': MEDIA.lineItem }, body: JSON.stringify(body) });
      const c1 = await create({ label: 'Extra', scoreMaximum: 50, tag: 'extra', resourceId: 'r-1', resourceLinkId: w.activityId });
      expect(c1.status).to.equal(201);
      const li = (await c1.json()) as Record<string, unknown>;
      expect(li).to.include({ label: 'Extra', scoreMaximum: 50, tag: 'extra', resourceId: 'r-1', resourceLinkId: w.activityId });
      expect(String(li.id)).to.match(/\/lineitems\/\d+\/lineitem\?type_id=\d+$/);
      expect((await create({ label: 'No max' })).status).to.equal(400);
      await create({ label: 'Other', scoreMaximum: 10, tag: 'other' });
      const list = async (q: string) => {
        const r = await fetch(`${lineitems}&${q}`, { headers: { authorization: `Bearer ${token}`, accept: MEDIA.lineItemContainer } });
        return { items: (await r.json()) as Array<Record<string, unknown>>, link: r.headers.get('link') };
      };
      expect((await list('tag=extra')).items.map((i) => i.label)).to.deep.equal(['Extra']);
      expect((await list('resource_id=r-1')).items).to.have.length(1);
      expect((await list(`resource_link_id=${w.activityId}`)).items).to.have.length(2);
      const p1 = await list('limit=2');
      expect(p1.items).to.have.length(2);
      expect(p1.link).to.match(/rel="next"/);
      const next = /<([^>]+)>/.exec(p1.link!)![1]!;
      const p2 = (await (await fetch(next, { headers: { authorization: `Bearer ${token}` } })).json()) as unknown[];
      expect(p2).to.have.length(1);
      const one = await fetch(String(li.id), { headers: { authorization: `Bearer ${token}` } });
      expect(((await one.json()) as Record<string, unknown>).label).to.equal('Extra');
      const put = await fetch(String(li.id), { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': MEDIA.lineItem }, body: JSON.stringify({ label: 'Renamed', scoreMaximum: 60 }) });
      expect(((await put.json()) as Record<string, unknown>).scoreMaximum).to.equal(60);
      expect((await postScore(String(li.id), token, score(w.students[0]!.id, '2026-03-01T00:00:00Z', 40))).status).to.equal(200);
      const results = (await (await fetch(String(li.id).replace('/lineitem?', '/lineitem/results?'), { headers: { authorization: `Bearer ${token}` } })).json()) as Array<Record<string, unknown>>;
      expect(results).to.have.length(1);
      // 40/100 scaled to the line item's maximum (60), as Moodle's gradebook does.
      expect(results[0]).to.include({ userId: w.students[0]!.id, resultScore: 24, resultMaximum: 60 });
      expect((await fetch(String(li.id), { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status).to.equal(204);
      expect((await fetch(lineItemUrl, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status).to.equal(403);
    });

    it('requires the right scope', async () => {
      const readOnly = w.sim.issueAccessToken(w.clientId, [SCOPES.lineItemReadOnly]);
      const lineitems = `${w.sim.issuer}/mod/lti/services.php/${w.course.id}/lineitems?type_id=${w.deploymentId}`;
      expect((await fetch(lineitems, { headers: { authorization: `Bearer ${readOnly}` } })).status).to.equal(200);
      const r = await fetch(lineitems, { method: 'POST', headers: { authorization: `Bearer ${readOnly}`, 'content-type': MEDIA.lineItem }, body: JSON.stringify({ label: 'x', scoreMaximum: 1 }) });
      expect(r.status).to.equal(401);
      expect((await postScore(lineItemUrl, readOnly, score(w.students[0]!.id, '2027-01-01T00:00:00Z'))).status).to.equal(401);
    });

    it('injects faults at roughly the configured rate, with Retry-After, delays and outages', async () => {
      const lineitems = `${w.sim.issuer}/mod/lti/services.php/${w.course.id}/lineitems?type_id=${w.deploymentId}`;
      w.sim.faults.set({ ags: { failRate: 0.3, status: 429, retryAfterSec: 2 } });
      let failed = 0;
      const n = 200;
      for (let i = 0; i < n; i += 20) {
        const batch = await Promise.all(
          Array.from({ length: 20 }, async () => {
            const r = await fetch(lineitems, { headers: { authorization: `Bearer ${token}` } });
            await r.arrayBuffer();
            return r;
          }),
        );
        for (const r of batch) {
          if (r.status === 429) {
            failed++;
            expect(r.headers.get('retry-after')).to.equal('2');
          } else expect(r.status).to.equal(200);
        }
      }
      expect(failed / n).to.be.within(0.2, 0.4);
      w.sim.faults.set({ ags: { delayMs: 150 } });
      const t0 = Date.now();
      expect((await fetch(lineitems, { headers: { authorization: `Bearer ${token}` } })).status).to.equal(200);
      expect(Date.now() - t0).to.be.at.least(140);
      w.sim.faults.set({ ags: { down: true }, token: { failRate: 1, status: 503 } });
      let threw = false;
      await fetch(lineitems, { headers: { authorization: `Bearer ${token}` } }).catch(() => (threw = true));
      expect(threw).to.equal(true);
      const tr = await fetch(w.sim.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'x=1' });
      expect(tr.status).to.equal(503);
      w.sim.faults.clear();
      expect((await fetch(lineitems, { headers: { authorization: `Bearer ${token}` } })).status).to.equal(200);
    });
  });

  describe('NRPS', () => {
    let w: World;
    before(async () => {
      w = await world();
    });
    after(() => closeWorld(w));

    it('pages through all members with Link rel="next", short roles, names only if shared', async () => {
      const private_ = w.sim.addTool({ loginUrl: w.tool.loginUrl, redirectUris: [w.tool.redirectUri], jwksUrl: w.tool.jwksUrl, targetLinkUri: w.tool.url, shareName: false, shareEmail: false });
      for (const [clientId, deploymentId, shareName] of [[w.clientId, w.deploymentId, true], [private_.clientId, private_.deploymentId, false]] as const) {
        const token = w.sim.issueAccessToken(clientId, [SCOPES.nrps]);
        let url: string | undefined = `${w.sim.membershipsUrl(w.course.id, deploymentId)}?limit=2`;
        const members: Array<Record<string, unknown>> = [];
        let pages = 0;
        while (url) {
          const r: Response = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: MEDIA.membershipContainer } });
          expect(r.status).to.equal(200);
          expect(r.headers.get('content-type')).to.contain(MEDIA.membershipContainer);
          const body = (await r.json()) as { id: string; context: Record<string, unknown>; members: Array<Record<string, unknown>> };
          expect(body.context).to.deep.equal({ id: w.course.id, label: 'LTI101', title: 'LTI Test Course 101' });
          members.push(...body.members);
          pages++;
          url = /<([^>]+)>;\s*rel="next"/.exec(r.headers.get('link') ?? '')?.[1];
        }
        expect(pages).to.equal(2);
        expect(members.map((m) => m.user_id)).to.have.members([w.teacher.id, ...w.students.map((s) => s.id)]);
        expect(members.every((m) => m.status === 'Active')).to.equal(true);
        expect(members.find((m) => m.user_id === w.teacher.id)!.roles).to.deep.equal(['Instructor']);
        expect(members.find((m) => m.user_id === w.students[0]!.id)!.roles).to.deep.equal(['Learner']);
        if (shareName) expect(members.find((m) => m.user_id === w.students[0]!.id)).to.include({ name: 'Sam Student', email: 'student1@example.com' });
        else expect(members[0]).to.not.have.any.keys('name', 'email', 'given_name', 'family_name');
      }
    });

    it('needs the memberships scope, a binding of the client and the NRPS media type', async () => {
      const token = await getToken(w, SCOPES.nrps);
      const url = w.sim.membershipsUrl(w.course.id, w.deploymentId);
      expect((await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: MEDIA.membershipContainer } })).status).to.equal(200);
      const noScope = w.sim.issueAccessToken(w.clientId, [SCOPES.score]);
      expect((await fetch(url, { headers: { authorization: `Bearer ${noScope}` } })).status).to.equal(401);
      expect((await fetch(w.sim.membershipsUrl(w.course.id, '999'), { headers: { authorization: `Bearer ${token}` } })).status).to.equal(401);
      expect((await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/html' } })).status).to.equal(400);
    });
  });

  describe('deep linking return', () => {
    let w: World;
    before(async () => {
      w = await world();
    });
    after(() => closeWorld(w));

    async function dlLaunch(): Promise<{ claims: JWTPayload; cookie: string }> {
      const init = w.sim.loginInitiation({ clientId: w.clientId, userId: w.teacher.id, courseId: w.course.id, messageType: 'LtiDeepLinkingRequest', dlData: 'd1' });
      const r = await callAuth(w, authParams(w, init), init.cookie);
      return { claims: decodeJwt(parseForm(r.body, w.sim.authUrl)!.fields.id_token!), cookie: init.cookie };
    }
    function response(claims: JWTPayload, over: JWTPayload = {}): JWTPayload {
      const now = Math.floor(Date.now() / 1000);
      return {
        iss: w.clientId,
        aud: w.sim.issuer,
        iat: now,
        exp: now + 300,
        nonce: `dl-${Math.random()}`,
        [LTI.messageType]: 'LtiDeepLinkingResponse',
        [LTI.version]: '1.3.0',
        [LTI.deploymentId]: claims[LTI.deploymentId],
        [LTI.dlData]: 'd1',
        [LTI.dlContentItems]: [
          { type: 'ltiResourceLink', title: 'Fractions', url: `${w.tool.url}/activity/7`, custom: { skill: 'fractions' }, lineItem: { scoreMaximum: 10, label: 'Fractions', resourceId: 'act-7', tag: 'jejak' } },
        ],
        ...over,
      };
    }
    async function postDl(claims: JWTPayload, jwt: string, cookie?: string): Promise<number> {
      const url = (claims[LTI.dlSettings] as Record<string, string>).deep_link_return_url!;
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) }, body: new URLSearchParams({ JWT: jwt }) });
      return res.status;
    }

    it('verifies the response against the tool JWKS and creates the activity and its line item', async () => {
      const { claims, cookie } = await dlLaunch();
      expect(await postDl(claims, await w.tool.sign(response(claims)), cookie)).to.equal(200);
      const rec = w.sim.deepLinkResponses.at(-1)!;
      expect(rec.error).to.equal(undefined);
      expect(rec.activityIds).to.have.length(1);
      const act = w.sim.activities.get(rec.activityIds[0]!)!;
      expect(act).to.include({ title: 'Fractions', url: `${w.tool.url}/activity/7` });
      expect(act.custom).to.deep.equal({ skill: 'fractions' });
      expect(w.sim.activityLineItem(act.id)).to.include({ scoreMaximum: 10, resourceId: 'act-7', tag: 'jejak' });
    });

    it('refuses bad responses', async () => {
      const cases: Array<[string, (c: JWTPayload) => JWTPayload]> = [
        ['wrong aud', (c) => response(c, { aud: 'https://elsewhere.example' })],
        ['wrong iss', (c) => response(c, { iss: 'someone' })],
        ['wrong message type', (c) => response(c, { [LTI.messageType]: 'LtiResourceLinkRequest' })],
        ['wrong deployment', (c) => response(c, { [LTI.deploymentId]: '999' })],
        ['data changed', (c) => response(c, { [LTI.dlData]: 'other' })],
        ['no nonce', (c) => response(c, { nonce: undefined })],
      ];
      for (const [what, make] of cases) {
        const { claims, cookie } = await dlLaunch();
        expect(await postDl(claims, await w.tool.sign(make(claims)), cookie), what).to.equal(400);
        expect(w.sim.deepLinkResponses.at(-1)!.error, what).to.be.a('string');
      }
      const { claims, cookie } = await dlLaunch();
      expect(await postDl(claims, await w.tool.sign(response(claims))), 'no session').to.equal(403);
      expect(await postDl(claims, w.sim.mintIdToken(response(claims)), cookie), 'signed by someone else').to.equal(400);
    });
  });

  describe('HTTP browser launches', () => {
    let w: World;
    before(async () => {
      w = await world();
    });
    after(() => closeWorld(w));
    const spec = () => ({ clientId: w.clientId, userId: w.students[0]!.id, courseId: w.course.id, activityId: w.activityId });

    it('launches in the course iframe (SameSite=None; Secure state cookie) through Moodle-like steps', async () => {
      const r = await launch(w.sim, spec());
      expect(r.final.status, r.final.body).to.equal(200);
      expect(r.final.body).to.contain('Welcome Sam Student');
      expect(r.steps.map((s) => s.name)).to.include.members(['coursePage', 'launchFrame', 'toolLogin', 'toolLaunch']);
      expect(r.loginParams).to.include({ login_hint: w.students[0]!.id, client_id: w.clientId });
      expect(r.authParams).to.include({ response_mode: 'form_post', client_id: w.clientId });
      expect(decodeJwt(r.idToken!).sub).to.equal(w.students[0]!.id);
      expect(r.browser.jar.get(w.sim.issuer, 'MoodleSession')).to.be.a('string');
    });

    it('fails in the iframe when third-party cookies are blocked, works in a new window', async () => {
      const framed = await launch(w.sim, { ...spec(), blockThirdPartyCookies: true });
      expect(framed.final.status).to.equal(401);
      expect(w.tool.launches.at(-1)!.reason).to.equal('state cookie missing');
      const windowed = await launch(w.sim, { ...spec(), presentation: 'window', blockThirdPartyCookies: true });
      expect(windowed.final.status, windowed.final.body).to.equal(200);
      expect(decodeJwt(windowed.idToken!)[LTI.launchPresentation]).to.include({ document_target: 'window' });
    });

    it('sends the login initiation by GET when asked, and the launch locale', async () => {
      const r = await launch(w.sim, { ...spec(), presentation: 'window', method: 'GET', locale: 'id' });
      expect(r.final.status, r.final.body).to.equal(200);
      expect(r.steps.find((s) => s.name === 'toolLogin')!.method).to.equal('GET');
      expect(decodeJwt(r.idToken!)[LTI.launchPresentation]).to.include({ locale: 'id', document_target: 'window' });
    });

    it('fails in the iframe with a SameSite=Lax state cookie even when third-party cookies are allowed', async () => {
      const lax = await MiniTool.start({ issuer: w.sim.issuer, platformJwksUrl: w.sim.jwksUrl, authUrl: w.sim.authUrl, cookieSameSite: 'Lax' });
      try {
        const reg = w.sim.addTool({ loginUrl: lax.loginUrl, redirectUris: [lax.redirectUri], jwksUrl: lax.jwksUrl, targetLinkUri: lax.url });
        lax.clientId = reg.clientId;
        const activityId = w.sim.addActivity({ courseId: w.course.id, clientId: reg.clientId, title: 'Lax' });
        const r = await launch(w.sim, { ...spec(), clientId: reg.clientId, activityId });
        expect(r.final.status).to.equal(401);
        expect(lax.launches.at(-1)!.reason).to.equal('state cookie missing');
      } finally {
        await lax.close();
      }
    });

    it('can stop before posting the id_token, so tests can post a tampered or replayed one', async () => {
      const r = await launch(w.sim, { ...spec(), stopBefore: 'toolLaunch' });
      expect(r.authForm!.action).to.equal(w.tool.redirectUri);
      const ctx = { ...r.context, initiator: w.sim.authUrl };
      expect((await r.browser.submitForm(r.authForm!, { context: ctx })).status).to.equal(200);
      expect((await r.browser.post(r.authForm!.action, { id_token: r.idToken!, state: 'other-state' }, { context: ctx })).status).to.equal(401);
    });

    it('offers lti_storage_target and a post_message_forwarding frame only when storageTarget is on', async () => {
      const init = w.sim.loginInitiation(spec());
      expect(init.params).to.not.have.property('lti_storage_target');
      const sim = await MoodleSim.start({ storageTarget: true });
      try {
        const t = sim.addTool({ loginUrl: w.tool.loginUrl, redirectUris: [w.tool.redirectUri], jwksUrl: w.tool.jwksUrl, targetLinkUri: w.tool.url });
        const { course, students } = sim.seedDefault();
        const activityId = sim.addActivity({ courseId: course.id, clientId: t.clientId, title: 'Stored' });
        const s = { clientId: t.clientId, userId: students[0]!.id, courseId: course.id, activityId };
        expect(sim.loginInitiation(s).params.lti_storage_target).to.equal('post_message_forwarding');
        const browser = new HttpBrowser();
        const page = await browser.get(sim.launchPageUrl(s));
        expect(page.body).to.match(/<iframe name="post_message_forwarding"/);
        const frame = await browser.get(parseIframeSrc(page.body, page.url, 'contentframe')!, { context: { topSite: siteOf(sim.issuer), initiator: page.url } });
        expect(parseForm(frame.body, frame.url)!.fields.lti_storage_target).to.equal('post_message_forwarding');
        const js = await browser.get(`${sim.issuer}/lib/lti/postmessage.js`);
        expect(js.headers.get('content-type')).to.contain('javascript');
        expect(js.body).to.contain('lti.put_data.response').and.contain('lti.get_data.response');
      } finally {
        await sim.close();
      }
    });
  });
});
