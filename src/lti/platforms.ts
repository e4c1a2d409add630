import crypto from 'node:crypto';
import { promisify } from 'node:util';
import { Provider as ltijsSingleton, type LtijsPlatform, type LtijsProvider } from 'ltijs';
import type { Db } from '../db/schema';
import { insertReturningId } from '../db/writes';
import { LtijsStore } from './ltijs-store';

const generateKeyPair = promisify(crypto.generateKeyPair);

/** A new signing key pair for one platform, made off the event loop; PEM halves and a random kid. */
export async function newToolKey(): Promise<{ kid: string; publicKey: string; privateKey: string }> {
  const { publicKey, privateKey } = await generateKeyPair('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { kid: crypto.randomBytes(16).toString('hex'), publicKey, privateKey };
}

/** What IT (or dynamic registration) tells us about a platform. */
export interface PlatformRegistration {
  /** The platform's issuer (Moodle: its wwwroot). */
  issuer: string;
  /** The client id the platform gave this tool. */
  clientId: string;
  name: string;
  /** OIDC authorisation endpoint (Moodle: /mod/lti/auth.php). */
  authLoginUrl: string;
  /** OAuth2 token endpoint for service access (Moodle: /mod/lti/token.php). */
  tokenUrl: string;
  /** The platform's JWKS (Moodle: /mod/lti/certs.php). */
  jwksUrl: string;
  source: 'dynamic' | 'manual';
  product?: string | null;
  /** Free-form facts kept with the registration (scopes granted, platform configuration). */
  details?: Record<string, unknown>;
  /** Deployment ids to accept launches from. */
  deploymentIds: string[];
}

export interface RegisteredPlatform {
  issuer: string;
  clientId: string;
  name: string;
  source: string;
  product: string | null;
  authLoginUrl: string;
  tokenUrl: string;
  jwksUrl: string;
  deploymentIds: string[];
  createdAt: number;
}

/**
 * The platforms this install trusts, and this tool's signing keys for each. ltijs keeps the platform
 * and its key pair (through LtijsStore); our `registration` and `deployment` tables add what ltijs
 * lacks: how it was registered, and which deployment ids are allowed (ltijs accepts any).
 */
export class Platforms {
  readonly ltijs: LtijsProvider;
  private readonly changeListeners: (() => void)[] = [];

  constructor(private readonly db: Db, private readonly store: LtijsStore, secret: string) {
    // ltijs exports one Provider instance; each Jejak app (and each test server) needs its own.
    const ProviderClass = Object.getPrototypeOf(ltijsSingleton).constructor as new () => LtijsProvider;
    this.ltijs = new ProviderClass().setup(secret, { plugin: store }, { cors: false });
  }

  /**
   * Registers a platform, or adds deployments to one already registered. The RSA key pair is made
   * off the event loop (ltijs's own registerPlatform blocks it for seconds making an RSA-4096 key).
   */
  async register(p: PlatformRegistration): Promise<RegisteredPlatform> {
    const existing = await this.get(p.issuer, p.clientId);
    if (!existing) {
      const { kid, publicKey, privateKey } = await newToolKey();
      const index = { kid, platformUrl: p.issuer, clientId: p.clientId };
      // The record shapes are ltijs's own (Utils/Auth.generatePlatformKeyPair, Provider.registerPlatform).
      await this.store.Replace('sealed', 'publickey', { kid }, { key: publicKey, kid }, index);
      await this.store.Replace('sealed', 'privatekey', { kid }, { key: privateKey, kid }, index);
      await this.store.Replace(false, 'platform', { platformUrl: p.issuer, clientId: p.clientId }, {
        platformName: p.name,
        platformUrl: p.issuer,
        clientId: p.clientId,
        authEndpoint: p.authLoginUrl,
        accesstokenEndpoint: p.tokenUrl,
        authorizationServer: p.tokenUrl,
        kid,
        authConfig: { method: 'JWK_SET', key: p.jwksUrl },
      });
      await this.db.insertInto('registration').values({
        issuer: p.issuer,
        client_id: p.clientId,
        name: p.name,
        source: p.source,
        product: p.product ?? null,
        auth_login_url: p.authLoginUrl,
        token_url: p.tokenUrl,
        jwks_url: p.jwksUrl,
        details: JSON.stringify(p.details ?? {}),
        created_at: Date.now(),
      }).execute();
    }
    for (const deploymentId of p.deploymentIds) await this.addDeployment(p.issuer, p.clientId, deploymentId);
    this.changed();
    return (await this.get(p.issuer, p.clientId))!;
  }

  /** Calls `listener` whenever this process registers or removes a platform (caches of origins). */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  private changed(): void {
    for (const l of this.changeListeners) l();
  }

  async addDeployment(issuer: string, clientId: string, deploymentId: string): Promise<number> {
    const found = await this.tenantId(issuer, clientId, deploymentId);
    if (found !== undefined) return found;
    return insertReturningId(this.db, 'deployment', { issuer, client_id: clientId, deployment_id: deploymentId, created_at: Date.now() });
  }

  /** The tenant id of a registered deployment, or undefined when that deployment is unknown. */
  async tenantId(issuer: string, clientId: string, deploymentId: string): Promise<number | undefined> {
    const row = await this.db.selectFrom('deployment').select('id')
      .where('issuer', '=', issuer).where('client_id', '=', clientId).where('deployment_id', '=', deploymentId)
      .executeTakeFirst();
    return row?.id;
  }

  async get(issuer: string, clientId: string): Promise<RegisteredPlatform | undefined> {
    const all = await this.list({ issuer, clientId });
    return all[0];
  }

  /** Registered platforms for an issuer (the login initiation may omit client_id). */
  async forIssuer(issuer: string): Promise<RegisteredPlatform[]> {
    return this.list({ issuer });
  }

  async list(filter: { issuer?: string; clientId?: string } = {}): Promise<RegisteredPlatform[]> {
    let q = this.db.selectFrom('registration').selectAll();
    if (filter.issuer !== undefined) q = q.where('issuer', '=', filter.issuer);
    if (filter.clientId !== undefined) q = q.where('client_id', '=', filter.clientId);
    const rows = await q.orderBy('created_at').execute();
    const out: RegisteredPlatform[] = [];
    for (const r of rows) {
      const deps = await this.db.selectFrom('deployment').select('deployment_id')
        .where('issuer', '=', r.issuer).where('client_id', '=', r.client_id).orderBy('id').execute();
      out.push({
        issuer: r.issuer, clientId: r.client_id, name: r.name, source: r.source, product: r.product,
        authLoginUrl: r.auth_login_url, tokenUrl: r.token_url, jwksUrl: r.jwks_url,
        deploymentIds: deps.map((d) => d.deployment_id), createdAt: r.created_at,
      });
    }
    return out;
  }

  /** Removes a platform, its keys and its deployments; course data goes with the deployments. */
  async remove(issuer: string, clientId: string): Promise<boolean> {
    const platform = await this.ltijsPlatform(issuer, clientId);
    if (platform) await platform.delete();
    const r = await this.db.deleteFrom('registration').where('issuer', '=', issuer).where('client_id', '=', clientId).executeTakeFirst();
    await this.db.deleteFrom('deployment').where('issuer', '=', issuer).where('client_id', '=', clientId).execute();
    this.changed();
    return Number(r.numDeletedRows) > 0;
  }

  async ltijsPlatform(issuer: string, clientId: string): Promise<LtijsPlatform | undefined> {
    return (await this.ltijs.getPlatform(issuer, clientId)) || undefined;
  }

  /** This tool's public keys, as the JWKS platforms fetch to check our signatures. */
  async jwks(): Promise<{ keys: Record<string, unknown>[] }> {
    const records = (await this.store.Get('sealed', 'publickey')) || [];
    return {
      keys: records.map((r) => ({ ...crypto.createPublicKey(r.key).export({ format: 'jwk' }), kid: r.kid, alg: 'RS256', use: 'sig' })),
    };
  }
}
