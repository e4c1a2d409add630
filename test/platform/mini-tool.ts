/**
 * A minimal LTI 1.3 tool used to exercise MoodleSim and the HTTP browser end to end (not Jejak):
 * OIDC login (state cookie + nonce), id_token verification against the platform JWKS, a JWKS of its
 * own, and helpers to sign client assertions and deep linking responses.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { SignJWT, createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, type JWK, type KeyLike, type JWTPayload } from 'jose';

export interface MiniToolOptions {
  /** Host in the tool's URLs (default 'localhost', a different site than the sim's 127.0.0.1). */
  host?: string;
  /** SameSite of the state cookie (default 'None', with Secure). */
  cookieSameSite?: 'None' | 'Lax' | 'unset';
  /** Platform issuer and JWKS to trust. */
  issuer: string;
  platformJwksUrl: string;
  authUrl: string;
  /** Generate a key of its own (default: one RSA key shared by the mini tools of this process, to save time). */
  freshKey?: boolean;
}

let shared: Promise<{ kid: string; privateKey: KeyLike; publicJwk: JWK }> | undefined;
function sharedKey(): Promise<{ kid: string; privateKey: KeyLike; publicJwk: JWK }> {
  shared ??= (async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
    const kid = randomBytes(6).toString('hex');
    return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
  })();
  return shared;
}

export interface MiniToolLaunch {
  ok: boolean;
  reason?: string;
  claims?: JWTPayload;
}

export class MiniTool {
  clientId = '';
  readonly launches: MiniToolLaunch[] = [];
  /** Keys served at /jwks (rotate with {@link rotateKey}). */
  readonly keys: Array<{ kid: string; privateKey: KeyLike; publicJwk: JWK }> = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  get loginUrl(): string {
    return `${this.url}/login`;
  }
  /** Login URL of the postMessage storage probe page. */
  get storageProbeUrl(): string {
    return `${this.url}/storage-probe`;
  }
  get redirectUri(): string {
    return `${this.url}/launch`;
  }
  get jwksUrl(): string {
    return `${this.url}/jwks`;
  }
  get currentKey(): { kid: string; privateKey: KeyLike; publicJwk: JWK } {
    return this.keys[this.keys.length - 1]!;
  }

  static async start(o: MiniToolOptions): Promise<MiniTool> {
    const app = express();
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, o.host === '127.0.0.1' ? '127.0.0.1' : 'localhost', () => resolve(s));
    });
    const port = (server.address() as AddressInfo).port;
    const tool = new MiniTool(server, `http://${o.host ?? 'localhost'}:${port}`);
    if (o.freshKey) await tool.rotateKey();
    else tool.keys.push(await sharedKey());
    const platformKeys = createRemoteJWKSet(new URL(o.platformJwksUrl));
    const sameSite = o.cookieSameSite ?? 'None';
    const cookieAttrs = sameSite === 'None' ? '; SameSite=None; Secure' : sameSite === 'Lax' ? '; SameSite=Lax' : '';

    app.get('/jwks', (_req, res) => void res.json({ keys: tool.keys.map((k) => k.publicJwk) }));
    app.all('/login', express.urlencoded({ extended: false }), (req, res) => {
      const p = { ...(req.query as Record<string, string>), ...((req.body as Record<string, string>) ?? {}) };
      if (p.iss !== o.issuer || !p.login_hint) return void res.status(400).send('bad login initiation');
      const state = randomBytes(12).toString('hex');
      const nonce = randomBytes(12).toString('hex');
      res.setHeader('Set-Cookie', `state_${state}=${nonce}; Path=/; HttpOnly${cookieAttrs}`);
      const u = new URL(o.authUrl);
      const q: Record<string, string> = {
        scope: 'openid',
        response_type: 'id_token',
        response_mode: 'form_post',
        prompt: 'none',
        client_id: p.client_id ?? tool.clientId,
        redirect_uri: tool.redirectUri,
        login_hint: p.login_hint,
        state,
        nonce,
      };
      if (p.lti_message_hint) q.lti_message_hint = p.lti_message_hint;
      for (const [k, v] of Object.entries(q)) u.searchParams.set(k, v);
      res.redirect(302, u.toString());
    });
    // A login page that only probes the platform's postMessage storage (for a real-browser test).
    app.all('/storage-probe', express.urlencoded({ extended: false }), (req, res) => {
      const p = { ...(req.query as Record<string, string>), ...((req.body as Record<string, string>) ?? {}) };
      const target = JSON.stringify(p.lti_storage_target ?? '');
      const origin = JSON.stringify(new URL(o.issuer).origin);
      res.type('html').send(`<!DOCTYPE html><html><body><pre id="out"></pre><script>
const target = ${target};
const platformOrigin = ${origin};
function ask(win, msg) {
  return new Promise((resolve) => {
    const id = Math.random().toString(36).slice(2);
    const on = (e) => { if (e.data && e.data.message_id === id) { window.removeEventListener('message', on); resolve({ origin: e.origin, data: e.data }); } };
    window.addEventListener('message', on);
    win.postMessage(Object.assign({}, msg, { message_id: id }), platformOrigin);
  });
}
(async () => {
  const r = { target };
  r.capabilities = await ask(window.parent, { subject: 'lti.capabilities' });
  const frame = window.parent.frames[target];
  r.put = await ask(frame, { subject: 'lti.put_data', key: 'state_abc', value: 'nonce-1' });
  r.get = await ask(frame, { subject: 'lti.get_data', key: 'state_abc' });
  r.missing = await ask(frame, { subject: 'lti.get_data', key: 'nope' });
  r.bad = await ask(frame, { subject: 'lti.put_data', value: 'x' });
  r.unsupported = await ask(frame, { subject: 'lti.frobnicate' });
  document.getElementById('out').textContent = JSON.stringify(r);
  document.body.setAttribute('data-done', '1');
})();
</script></body></html>`);
    });
    app.post('/launch', express.urlencoded({ extended: false }), async (req, res) => {
      const body = req.body as Record<string, string>;
      const cookies = Object.fromEntries(
        (req.get('cookie') ?? '')
          .split(';')
          .map((c) => c.trim().split('='))
          .filter((kv) => kv.length === 2),
      ) as Record<string, string>;
      const record = (r: MiniToolLaunch, status: number, html: string) => {
        tool.launches.push(r);
        res.status(status).type('html').send(html);
      };
      if (body.error) return record({ ok: false, reason: `platform error ${body.error}` }, 400, `<p id="error">${body.error}</p>`);
      const nonce = cookies[`state_${body.state}`];
      if (!nonce) return record({ ok: false, reason: 'state cookie missing' }, 401, '<p id="error">state cookie missing</p>');
      try {
        const { payload } = await jwtVerify(body.id_token ?? '', platformKeys, { issuer: o.issuer, audience: tool.clientId, algorithms: ['RS256'] });
        if (payload.nonce !== nonce) return record({ ok: false, reason: 'nonce mismatch', claims: payload }, 401, '<p id="error">nonce mismatch</p>');
        record({ ok: true, claims: payload }, 200, `<p id="welcome">Welcome ${String(payload.name ?? payload.sub)}</p>`);
      } catch (e) {
        record({ ok: false, reason: `invalid id_token: ${(e as Error).message}` }, 401, '<p id="error">invalid id_token</p>');
      }
    });
    return tool;
  }

  /** Add a new signing key (new kid); the JWKS serves all keys. */
  async rotateKey(): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
    const kid = randomBytes(6).toString('hex');
    this.keys.push({ kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } });
    return kid;
  }

  /** A client_credentials assertion (iss = sub = client id). */
  async clientAssertion(aud: string, overrides: JWTPayload = {}, opts: { kid?: string; key?: KeyLike } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: this.clientId, sub: this.clientId, aud, iat: now, exp: now + 300, jti: randomBytes(8).toString('hex'), ...overrides })
      .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? this.currentKey.kid, typ: 'JWT' })
      .sign(opts.key ?? this.currentKey.privateKey);
  }

  /** Sign any payload with the tool's current key. */
  async sign(payload: JWTPayload): Promise<string> {
    return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: this.currentKey.kid, typ: 'JWT' }).sign(this.currentKey.privateKey);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
