/**
 * Dynamic registration against platforms that misbehave (issue 13.8), and who may frame the
 * registration pages (issue 12.1, headers; the browser test proves it in Chromium). A small HTTP server
 * on 127.0.0.1 plays the platform; the tool runs on localhost.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { MoodleSim } from '../platform';
import { HttpBrowser, parseForm } from '../support/http-browser';
import { sqliteDatabase, type TestDatabase } from '../support/db';
import { startTool, type RunningTool } from '../support/tool';
import { DynamicRegistration } from '../../src/lti/registration';

/** A platform whose every path answers what the current test says, counting what it was asked and what it wrote. */
class FakePlatform {
  requests: string[] = [];
  /** Bytes of body written by streaming handlers, and whether the client hung up before the end. */
  streamed = { bytes: 0, aborted: false };
  routes = new Map<string, (req: http.IncomingMessage, res: http.ServerResponse) => void>();
  private constructor(private readonly server: http.Server, readonly origin: string) {}

  static async start(): Promise<FakePlatform> {
    let self: FakePlatform | undefined;
    const server = http.createServer((req, res) => {
      self!.requests.push(`${req.method} ${req.url}`);
      req.resume();
      const route = self!.routes.get(new URL(req.url!, 'http://x').pathname);
      if (route) route(req, res);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    self = new FakePlatform(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return self;
  }

  /** A Moodle-shaped configuration of this server, with `overrides` applied. */
  config(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const o = this.origin;
    return {
      issuer: o, authorization_endpoint: `${o}/mod/lti/auth.php`, token_endpoint: `${o}/mod/lti/token.php`,
      jwks_uri: `${o}/mod/lti/certs.php`, registration_endpoint: `${o}/mod/lti/openid-registration.php`,
      'https://purl.imsglobal.org/spec/lti-platform-configuration': { product_family_code: 'moodle', messages_supported: ['LtiResourceLinkRequest'] },
      ...overrides,
    };
  }

  json(path: string, body: unknown, status = 200): void {
    this.routes.set(path, (_req, res) => res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body)));
  }

  /** Streams `total` bytes of a JSON-typed body, without content-length, minding backpressure. */
  stream(path: string, total: number): void {
    this.routes.set(path, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, ' ');
      res.write('{"padding":"');
      const pump = () => {
        while (this.streamed.bytes < total) {
          this.streamed.bytes += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end('"}');
      };
      req.socket.once('close', () => {
        if (!res.writableFinished) this.streamed.aborted = true;
      });
      pump();
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

const SECRET_BODY = 'REMOTE-BODY-7f3a <script>alert(1)</script>';

describe('dynamic registration: what it fetches, and who may frame it', function () {
  this.timeout(30_000);
  let tdb: TestDatabase;
  let tool: RunningTool;
  let fake: FakePlatform;
  let sim: MoodleSim;
  let key: string;

  before(async () => {
    tdb = await sqliteDatabase();
    tool = await startTool(tdb);
    sim = await MoodleSim.start();
    key = tool.jejak.registrationKey;
  });
  after(async () => {
    await sim?.close();
    await tool?.close();
    await tdb?.drop();
  });
  beforeEach(async () => {
    fake = await FakePlatform.start();
  });
  afterEach(async () => {
    await fake.close();
  });

  const registrationUrl = (openidConfiguration: string, k = key) =>
    `${tool.url}/lti/register?key=${encodeURIComponent(k)}&openid_configuration=${encodeURIComponent(openidConfiguration)}&registration_token=t`;
  const open = (openidConfiguration: string) => fetch(registrationUrl(openidConfiguration), { headers: { 'accept-language': 'en' } });
  /** The log line of the failed registration answered with `res`, found by its request id. */
  const failureLogged = (res: Response) => tool.logs.find((l) => l.msg === 'registration failed' && l.reqId === res.headers.get('x-request-id'));
  const registered = async () => (await tool.jejak.platforms.list()).map((p) => p.issuer);

  describe('the openid_configuration fetch', () => {
    it('makes one request and does not follow a redirect', async () => {
      fake.json('/config', fake.config());
      fake.routes.set('/moved', (_req, res) => res.writeHead(302, { location: `${fake.origin}/config` }).end());
      const res = await open(`${fake.origin}/moved`);
      const body = await res.text();
      expect(res.status).to.equal(502);
      expect(body).to.contain('answered with a redirect (HTTP 302)');
      expect(fake.requests).to.deep.equal(['GET /moved']);
    });

    it('stops reading an endless answer at the size cap and drops the connection', async () => {
      const total = 256 * 1024 * 1024;
      fake.stream('/huge', total);
      const res = await open(`${fake.origin}/huge`);
      expect(res.status).to.equal(502);
      expect(await res.text()).to.contain('is larger than 256 KB');
      // The tool hung up long before the end: what it held never exceeded the cap plus socket buffers.
      for (let i = 0; i < 50 && !fake.streamed.aborted; i++) await new Promise((r) => setTimeout(r, 20));
      expect(fake.streamed.aborted, 'connection dropped').to.equal(true);
      expect(fake.streamed.bytes).to.be.below(16 * 1024 * 1024);
    });

    it('refuses a declared length over the cap without reading it', async () => {
      fake.routes.set('/declared', (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(300 * 1024) });
        res.write('{"a":"');
      });
      const res = await open(`${fake.origin}/declared`);
      expect(res.status).to.equal(502);
      expect(await res.text()).to.contain('is larger than 256 KB');
    });

    it('refuses an answer that is not JSON (by type or content), without echoing it; the log keeps it under the request id', async () => {
      fake.routes.set('/html', (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(JSON.stringify(fake.config()) + SECRET_BODY));
      fake.routes.set('/broken', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(`{"issuer": ${SECRET_BODY}`));
      for (const path of ['/html', '/broken']) {
        const res = await open(`${fake.origin}${path}`);
        const body = await res.text();
        expect(res.status, path).to.equal(502);
        expect(body, path).to.contain('did not answer JSON');
        expect(body, path).not.to.contain('REMOTE-BODY-7f3a');
        expect(body, path).to.contain(res.headers.get('x-request-id')!);
        expect(failureLogged(res)?.detail, path).to.contain('REMOTE-BODY-7f3a');
      }
    });

    it('does not echo an error answer, and bounds what it logs of it', async () => {
      fake.routes.set('/error', (_req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end(SECRET_BODY + 'x'.repeat(100_000)));
      const res = await open(`${fake.origin}/error`);
      const body = await res.text();
      expect(res.status).to.equal(502);
      expect(body).to.contain('answered').and.contain('HTTP 500');
      expect(body).not.to.contain('REMOTE-BODY-7f3a');
      const logged = failureLogged(res);
      expect(logged?.detail).to.contain('REMOTE-BODY-7f3a');
      expect(logged!.detail.length).to.be.below(2_000);
    });

    it('speaks the admin\'s language', async () => {
      fake.routes.set('/html', (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hi</p>'));
      const res = await fetch(registrationUrl(`${fake.origin}/html`), { headers: { 'accept-language': 'id' } });
      expect(await res.text()).to.contain('tidak menjawab dengan JSON');
    });

    for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'registration_endpoint']) {
      it(`refuses a configuration whose ${field} is on another origin than its issuer`, async () => {
        fake.json('/config', fake.config({ [field]: `http://localhost:${new URL(fake.origin).port}/elsewhere` }));
        const res = await open(`${fake.origin}/config`);
        expect(res.status).to.equal(502);
        expect(await res.text()).to.contain(`puts ${field} on another site`);
      });
    }

    it('refuses a configuration whose issuer is not the site of its URL', async () => {
      fake.json('/config', fake.config({ issuer: 'http://moodle.example' }));
      const res = await open(`${fake.origin}/config`);
      expect(res.status).to.equal(502);
      expect(await res.text()).to.contain('names an issuer on another site');
    });

    it('still registers a platform on a private address (127.0.0.1) that behaves', async () => {
      fake.json('/config', fake.config());
      fake.json('/mod/lti/openid-registration.php', { client_id: 'fake-client', 'https://purl.imsglobal.org/spec/lti-tool-configuration': { deployment_id: '7' } });
      const browser = new HttpBrowser();
      const page = await browser.get(registrationUrl(`${fake.origin}/config`));
      expect(page.status, page.body.slice(0, 300)).to.equal(200);
      const done = await browser.submitForm(parseForm(page.body, page.url)!);
      expect(done.status, done.body.slice(0, 300)).to.equal(200);
      expect(await tool.jejak.platforms.get(fake.origin, 'fake-client')).to.include({ tokenUrl: `${fake.origin}/mod/lti/token.php` });
      await tool.jejak.platforms.remove(fake.origin, 'fake-client');
    });

    it('gives up on a platform that stops answering, at the time cap', async () => {
      fake.routes.set('/slow', (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"issuer":');
      });
      const registration = new DynamicRegistration(tool.jejak.platforms, tool.jejak.config, { timeoutMs: 300, maxBytes: 256 * 1024 });
      const err = await registration.platformConfiguration(new URL(`${fake.origin}/slow`)).then(() => undefined, (e) => e);
      expect(err?.reason).to.equal('timeout');
    });
  });

  describe('the registration POST\'s answer', () => {
    const submit = async () => {
      const browser = new HttpBrowser();
      const page = await browser.get(registrationUrl(`${fake.origin}/config`));
      expect(page.status, page.body.slice(0, 300)).to.equal(200);
      return browser.submitForm(parseForm(page.body, page.url)!);
    };

    it('is held to the same caps: no redirect, no oversized body, JSON only, nothing echoed', async () => {
      fake.json('/config', fake.config());
      const cases: [string, (req: http.IncomingMessage, res: http.ServerResponse) => void, string][] = [
        ['redirect', (_req, res) => res.writeHead(307, { location: `${fake.origin}/other` }).end(), 'answered with a redirect (HTTP 307)'],
        ['html', (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(`{"client_id":"x"} ${SECRET_BODY}`), 'did not answer JSON'],
        ['refused', (_req, res) => res.writeHead(400, { 'content-type': 'text/plain' }).end(SECRET_BODY), 'HTTP 400'],
      ];
      for (const [name, handler, message] of cases) {
        fake.routes.set('/mod/lti/openid-registration.php', handler);
        const done = await submit();
        expect(done.status, name).to.equal(502);
        expect(done.body, name).to.contain(message);
        expect(done.body, name).not.to.contain('REMOTE-BODY-7f3a');
      }
      fake.stream('/mod/lti/openid-registration.php', 64 * 1024 * 1024);
      const huge = await submit();
      expect(huge.status).to.equal(502);
      expect(huge.body).to.contain('is larger than 256 KB');
      expect(fake.streamed.bytes).to.be.below(16 * 1024 * 1024);
      expect(fake.requests.filter((r) => r.includes('/other'))).to.deep.equal([]);
      expect(await registered()).not.to.include(fake.origin);
    });
  });

  describe('framing of the registration pages', () => {
    const frameAncestors = (res: Response | { headers: Headers }) =>
      /frame-ancestors ([^;]*)/.exec(res.headers.get('content-security-policy') ?? '')![1]!.split(' ');
    const formAction = (res: Response | { headers: Headers }) =>
      /form-action ([^;]*)/.exec(res.headers.get('content-security-policy') ?? '')![1]!.split(' ');
    const simOrigin = () => new URL(sim.issuer).origin;

    it('the confirmation and done pages may be framed by the registering platform only (and ourselves)', async () => {
      const browser = new HttpBrowser();
      const page = await browser.get(sim.dynamicRegistrationUrl(tool.jejak.urls.registration));
      expect(page.status).to.equal(200);
      expect(frameAncestors(page)).to.deep.equal(["'self'", simOrigin()]);
      expect(formAction(page)).to.deep.equal(["'self'"]);
      const done = await browser.submitForm(parseForm(page.body, page.url)!);
      expect(done.status).to.equal(200);
      expect(frameAncestors(done)).to.deep.equal(["'self'", simOrigin()]);
      const clientId = [...sim.tools.keys()].pop()!;
      expect(sim.tool(clientId).state).to.equal('pending');
      // Now registered, the platform may frame every page; a third site, registering next, sees only itself.
      fake.json('/config', fake.config());
      const other = await open(`${fake.origin}/config`);
      expect(other.status).to.equal(200);
      expect(frameAncestors(other)).to.deep.equal(["'self'", fake.origin]);
      expect(frameAncestors(other)).not.to.include(simOrigin());
    });

    it('its error pages too; a request without the right key keeps the default policy', async () => {
      fake.routes.set('/html', (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hi</p>'));
      const failed = await open(`${fake.origin}/html`);
      expect(failed.status).to.equal(502);
      expect(frameAncestors(failed)).to.deep.equal(["'self'", fake.origin]);
      const wrongKey = await fetch(registrationUrl(`${fake.origin}/html`, 'not-the-key'));
      expect(wrongKey.status).to.equal(403);
      expect(frameAncestors(wrongKey)).not.to.include(fake.origin);
      const post = await fetch(`${tool.url}/lti/register`, {
        method: 'POST', body: new URLSearchParams({ key: 'nope', openid_configuration: `${fake.origin}/html` }),
      });
      expect(post.status).to.equal(403);
      expect(frameAncestors(post)).not.to.include(fake.origin);
      const notHttp = await fetch(`${tool.url}/lti/register?key=${key}&openid_configuration=${encodeURIComponent('javascript:alert(1)')}`);
      expect(notHttp.status).to.equal(400);
      expect(frameAncestors(notHttp)).to.deep.equal(frameAncestors(await fetch(`${tool.url}/`)));
      expect(fake.requests).to.deep.equal(['GET /html']);
    });
  });
});
