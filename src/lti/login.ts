import { z } from 'zod';
import type { Db } from '../db/schema';
import type { Config } from '../config';
import { randomToken, sha256 } from '../crypto';
import type { Platforms, RegisteredPlatform } from './platforms';
import { Refusal } from './refusal';

/** LTI ids (client, deployment) are at most 255 characters (LTI 1.3 Core). */
const Id = z.string().min(1).max(255);

/**
 * Third-party initiated login (LTI 1.3 / OIDC), GET query or POST form. Stored until the launch by a
 * request nobody has verified yet, so every value is capped: hints are opaque to us (Moodle's are short
 * JSON; other platforms send JWTs of a kilobyte or two), the rest are ids and URLs.
 */
export const LoginParams = z.object({
  iss: z.string().max(255).url(),
  login_hint: z.string().min(1).max(2048),
  target_link_uri: z.string().max(2048).url(),
  lti_message_hint: z.string().max(4096).optional(),
  client_id: Id.optional(),
  lti_deployment_id: Id.optional(),
  /** The name of the platform's storage frame ('_parent', 'post_message_forwarding'). */
  lti_storage_target: z.string().min(1).max(255).optional(),
  /** Ours: set when the user chose to continue in a new window because the iframe had no cookies. */
  jejak_window: z.literal('new').optional(),
});
export type LoginParams = z.infer<typeof LoginParams>;

export interface StartedLogin {
  state: string;
  /** Random value for the browser-binding cookie; its hash is stored with the login. */
  binding: string;
}

export interface PendingLogin {
  state: string;
  nonce: string;
  issuer: string;
  clientId: string;
  deploymentId: string | null;
  targetLinkUri: string;
  browserBinding: string | null;
  bindingKind: 'cookie' | 'platform';
  params: LoginParams;
}

/** Where the platform posts the id_token back; also the target link URI we register. */
export const launchPath = '/lti/launch';

export class Logins {
  constructor(private readonly db: Db, private readonly platforms: Platforms, private readonly config: Config) {}

  /**
   * Checks a login initiation and records its state and nonce; refuses what cannot lead to a launch, and
   * a login from an address that already has `maxPending` unfinished ones (each is stored until it expires).
   */
  async start(raw: unknown, clientAddress: string, maxPending: number): Promise<StartedLogin> {
    const parsed = LoginParams.safeParse(raw);
    if (!parsed.success) {
      const oversize = parsed.error.issues.some((i) => i.code === 'too_big');
      throw new Refusal(oversize ? 'oversize_params' : 'missing_params', `login initiation: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
    }
    const params = parsed.data;
    const platform = await this.platformFor(params);
    if (params.lti_deployment_id && (await this.platforms.tenantId(platform.issuer, platform.clientId, params.lti_deployment_id)) === undefined) {
      throw new Refusal('unknown_deployment', `deployment ${params.lti_deployment_id} of ${platform.issuer} (${platform.clientId}) is not registered`);
    }
    if (!this.isOurs(params.target_link_uri)) throw new Refusal('bad_target', `target_link_uri ${params.target_link_uri} is not under ${this.config.publicUrl}`);
    const now = Date.now();
    const pending = await this.db.selectFrom('oidc_login').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('client_address', '=', clientAddress).where('expires_at', '>', now).executeTakeFirstOrThrow();
    if (Number(pending.n) >= maxPending) {
      throw new Refusal('too_many_logins', `${clientAddress} has ${pending.n} unfinished logins`, 429);
    }
    const state = randomToken(24);
    const binding = randomToken(24);
    await this.db.insertInto('oidc_login').values({
      state,
      nonce: randomToken(24),
      issuer: platform.issuer,
      client_id: platform.clientId,
      deployment_id: params.lti_deployment_id ?? null,
      target_link_uri: params.target_link_uri,
      browser_binding: sha256(binding),
      binding_kind: 'cookie',
      login_params: JSON.stringify(params),
      client_address: clientAddress,
      continued_at: null,
      created_at: now,
      expires_at: now + this.config.launch.loginTtlSeconds * 1000,
    }).execute();
    return { state, binding };
  }

  async find(state: string): Promise<PendingLogin | undefined> {
    const row = await this.db.selectFrom('oidc_login').selectAll().where('state', '=', state).where('expires_at', '>', Date.now()).executeTakeFirst();
    if (!row) return undefined;
    return {
      state: row.state, nonce: row.nonce, issuer: row.issuer, clientId: row.client_id, deploymentId: row.deployment_id,
      targetLinkUri: row.target_link_uri, browserBinding: row.browser_binding, bindingKind: row.binding_kind as 'cookie' | 'platform',
      params: LoginParams.parse(JSON.parse(row.login_params)),
    };
  }

  /**
   * Marks the login continued, once: whoever learns a state later cannot continue it again, so cannot
   * swap its browser binding for one of their own. With `toPlatformStorage` the login switches to a new
   * binding value (returned) that the browser keeps in the platform's storage; the cookie binding is kept otherwise.
   */
  async continueOnce(state: string, toPlatformStorage: boolean): Promise<string | undefined> {
    const binding = toPlatformStorage ? randomToken(24) : undefined;
    const now = Date.now();
    const done = await this.db.updateTable('oidc_login')
      .set(binding === undefined ? { continued_at: now } : { continued_at: now, browser_binding: sha256(binding), binding_kind: 'platform' })
      .where('state', '=', state).where('continued_at', 'is', null).where('expires_at', '>', now)
      .executeTakeFirst();
    if (Number(done.numUpdatedRows) !== 1) throw new Refusal('unknown_state', 'login continuation for a state already continued');
    return binding;
  }

  /** The OIDC authentication request to send the browser to (response_mode=form_post, prompt=none). */
  async authenticationRequest(login: PendingLogin): Promise<string> {
    const platform = await this.platforms.get(login.issuer, login.clientId);
    if (!platform) throw new Refusal('unknown_platform', `${login.issuer} (${login.clientId}) was removed during the login`);
    const url = new URL(platform.authLoginUrl);
    const q = url.searchParams;
    q.set('scope', 'openid');
    q.set('response_type', 'id_token');
    q.set('response_mode', 'form_post');
    q.set('prompt', 'none');
    q.set('client_id', platform.clientId);
    q.set('redirect_uri', this.config.publicUrl + launchPath);
    q.set('login_hint', login.params.login_hint);
    if (login.params.lti_message_hint !== undefined) q.set('lti_message_hint', login.params.lti_message_hint);
    q.set('state', login.state);
    q.set('nonce', login.nonce);
    return url.toString();
  }

  private async platformFor(params: LoginParams): Promise<RegisteredPlatform> {
    if (params.client_id) {
      const p = await this.platforms.get(params.iss, params.client_id);
      if (!p) throw new Refusal('unknown_platform', `no registration for issuer ${params.iss} and client_id ${params.client_id}`);
      return p;
    }
    const all = await this.platforms.forIssuer(params.iss);
    if (all.length === 0) throw new Refusal('unknown_platform', `no registration for issuer ${params.iss}`);
    if (all.length > 1) throw new Refusal('ambiguous_client', `issuer ${params.iss} has ${all.length} registrations and sent no client_id`);
    return all[0];
  }

  private isOurs(uri: string): boolean {
    const base = this.config.publicUrl;
    return uri === base || uri.startsWith(base + '/');
  }
}
