/**
 * MoodleSim — a spec-faithful LTI 1.3 Advantage platform simulator that behaves like Moodle 4.x/5.x
 * (observed Moodle 5.1 messages in /work/shared/moodle), for the tool's tests.
 *
 * Endpoints (paths as Moodle's, under `issuer`):
 *   GET  /mod/lti/openid-configuration.php     platform configuration (Dynamic Registration)
 *   POST /mod/lti/openid-registration.php      registration endpoint (Bearer registration_token)
 *   GET  /mod/lti/certs.php                    JWKS
 *   GET|POST /mod/lti/auth.php                 OIDC authorization endpoint (form_post of id_token)
 *   POST /mod/lti/token.php                    client_credentials + JWT client assertion
 *   POST /mod/lti/contentitem_return.php       deep linking response (JWT form field)
 *   *    /mod/lti/services.php/{course}/lineitems[/{id}/lineitem[/scores|/results]]?type_id=N   AGS
 *   GET  /mod/lti/services.php/CourseSection/{course}/bindings/{typeId}/memberships            NRPS
 *   GET  /course/launch.php?ticket=…           course page (sets MoodleSession) framing/launching the tool
 *   GET  /mod/lti/launch.php?launchid=…        the login initiation auto-post (iframe content)
 *   GET  /mod/lti/return.php                   launch_presentation.return_url
 *   GET  /mod/lti/post_message_forwarding.php  LTI client-side storage target frame (storageTarget on)
 *   GET  /lib/lti/postmessage.js               its script
 */
import { createHash, createHmac, createSign, generateKeyPair, generateKeyPairSync, randomBytes, randomInt, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import path from 'node:path';
import express, { type Request, type Response, type NextFunction } from 'express';
import { importJWK, jwtVerify, decodeJwt, decodeProtectedHeader, type JWK, type KeyLike } from 'jose';
import { autoForm, esc, page } from './html';
import {
  LTI,
  MEDIA,
  ROLE_URI,
  SCOPES,
  type AccessTokenRecord,
  type AddActivityOptions,
  type AddToolOptions,
  type AuthRequestRecord,
  type Claims,
  type CourseRole,
  type DeepLinkResponseRecord,
  type FaultConfig,
  type FaultSpec,
  type LaunchOptions,
  type LoginInitiation,
  type MessageType,
  type MintOptions,
  type MoodleSimOptions,
  type Presentation,
  type RecordedScore,
  type RefusedScore,
  type SimActivity,
  type SimCourse,
  type SimLineItem,
  type SimStats,
  type SimTool,
  type SimUser,
  type StoredGrade,
} from './types';
import { mulberry32 } from '../../src/random';

export * from './types';

/** Moodle 5.1+ as observed. */
export const MOODLE_VERSION = '2025100600.02';
export const MOODLE_RELEASE = '5.1+ (Build: 20251010)';
export const STORAGE_FRAME = 'post_message_forwarding';
const ACCESS_TOKEN_LIFE = 3600;
/** Secret used when a test asks for an HS256-signed token (a classic algorithm-confusion attack). */
export const HS256_SECRET = 'jejak-moodlesim-hs256-secret-not-a-real-key';
const ACTIVITY_PROGRESS = ['Initialized', 'Started', 'InProgress', 'Submitted', 'Completed'];
const GRADING_PROGRESS = ['FullyGraded', 'Pending', 'PendingManual', 'Failed', 'NotReady'];
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomString(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[randomInt(ALNUM.length)];
  return s;
}

/** Moodle's lti_get_domain_from_url: host[:port], lower case, without scheme, path and "www.". */
export function domainOf(url: string): string {
  let s = url.trim().toLowerCase().replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  s = s.split(/[/?#]/)[0] ?? '';
  if (s.startsWith('www.')) s = s.slice(4);
  return s;
}

type RsaPair = { publicKey: KeyObject; privateKey: KeyObject };
function rsaPair(): Promise<RsaPair> {
  return new Promise((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: 2048 }, (err, publicKey, privateKey) => (err ? reject(err) : resolve({ publicKey, privateKey }))),
  );
}
/** Platform keys are generated ahead, off the main thread (each sim still gets a key of its own). */
const keyPool: Array<Promise<RsaPair>> = [];
function takeKeyPair(): Promise<RsaPair> {
  while (keyPool.length < 2) keyPool.push(rsaPair());
  const k = keyPool.shift()!;
  keyPool.push(rsaPair());
  return k;
}
/** One never-published key shared by all sims ("signed by someone else"). */
let otherKeyObject: KeyObject | undefined;


function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    if (k && !(k in out)) out[k] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return '';
}

function isNumeric(v: unknown): boolean {
  return (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)));
}

/** ISO 8601 date-time with timezone (what AGS requires for `timestamp`). */
function isIsoDateTime(v: unknown): v is string {
  return (
    typeof v === 'string' &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(v) &&
    !Number.isNaN(Date.parse(v))
  );
}

interface Session {
  id: string;
  userId: string;
  sesskey: string;
}

interface Launch {
  launchId: string;
  sessionId: string;
  used: boolean;
  clientId: string;
  deploymentId: string;
  userId: string;
  courseId: string;
  activityId?: string;
  messageType: MessageType;
  locale: string;
  method: 'GET' | 'POST';
  targetLinkUri: string;
  presentation: Presentation;
  forUserId?: string;
  dlTitle?: string;
  dlText?: string;
  dlData?: string;
  storageTarget: boolean;
  tamper?: LaunchOptions['tamper'];
  params: Record<string, string>;
}

interface DeepLinkReturn {
  sesskey: string;
  sessionId: string;
  courseId: string;
  typeId: string;
  clientId: string;
  deploymentId: string;
  data?: string;
}

type LaunchPageSpec = LaunchOptions & { presentation?: Presentation };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Fault injection settings (per service), see {@link FaultConfig}. */
export class Faults {
  private cfg: FaultConfig = {};
  /** Replace the configuration. */
  set(cfg: FaultConfig): void {
    this.cfg = { ...cfg };
  }
  /** No faults. */
  clear(): void {
    this.cfg = {};
  }
  get(service: keyof FaultConfig): FaultSpec | undefined {
    return this.cfg[service];
  }
}

export class MoodleSim {
  /** Base URL, like Moodle's wwwroot (also the `iss`). */
  readonly issuer: string;
  /** kid of the platform's signing key (20 hex chars like Moodle). */
  readonly kid: string;
  /** The JWK published at certs.php. */
  readonly publicJwk: JWK;
  readonly storageTarget: boolean;
  readonly clockSkewSec: number;

  /** Registered tools by client id. */
  readonly tools = new Map<string, SimTool>();
  readonly courses = new Map<string, SimCourse>();
  readonly users = new Map<string, SimUser>();
  /** courseId -> (userId -> role), in enrolment order. */
  readonly enrolments = new Map<string, Map<string, CourseRole>>();
  /** Activities by resource link id. */
  readonly activities = new Map<string, SimActivity>();
  /** Line items by numeric id. */
  readonly lineItems = new Map<number, SimLineItem>();
  /** Gradebook: `${lineItemId}:${userId}` -> grade. */
  readonly grades = new Map<string, StoredGrade>();
  /** Every accepted score, in order. */
  readonly scores: RecordedScore[] = [];
  /** Every score posted to an existing line item and refused (invalid, or not later than the stored grade), in order. */
  readonly refusedScores: RefusedScore[] = [];
  /** Every deep linking response received (refused ones carry `error`). */
  readonly deepLinkResponses: DeepLinkResponseRecord[] = [];
  /** Every request to auth.php and its outcome (incl. the id_token posted). */
  readonly authRequests: AuthRequestRecord[] = [];
  /** Issued access tokens. */
  readonly accessTokens = new Map<string, AccessTokenRecord>();
  readonly stats: SimStats = {
    tokenRequests: 0,
    tokensIssued: 0,
    agsRequests: 0,
    nrpsRequests: 0,
    authRequests: 0,
    registrationRequests: 0,
    jwksFetches: 0,
    injectedFaults: 0,
  };
  readonly faults = new Faults();

  private readonly sessions = new Map<string, Session>();
  private readonly launches = new Map<string, Launch>();
  private readonly tickets = new Map<string, LaunchPageSpec>();
  private readonly dlReturns = new Map<string, DeepLinkReturn>();
  private readonly usedJtis = new Set<string>();
  private readonly usedDlNonces = new Set<string>();
  private readonly jwksCache = new Map<string, JWK[]>();
  private readonly opts: Required<Pick<MoodleSimOptions, 'strictAssertionAudience' | 'singleUseAssertionJti'>>;
  private readonly rand: () => number;
  private nextTypeId = 1;
  private nextCourseId = 2;
  private nextUserId = 3;
  private nextInstanceId = 1;
  private nextCmid = 2;
  private nextLineItemId = 2;
  private readonly hashSecret = randomBytes(16).toString('hex');

  private constructor(
    private readonly server: Server,
    issuer: string,
    private readonly privateKey: KeyObject,
    publicJwk: JWK,
    options: MoodleSimOptions,
  ) {
    this.issuer = issuer;
    this.publicJwk = publicJwk;
    this.kid = String(publicJwk.kid);
    this.storageTarget = options.storageTarget ?? false;
    this.clockSkewSec = options.clockSkewSec ?? 0;
    this.rand = mulberry32(options.seed ?? 42);
    this.opts = {
      strictAssertionAudience: options.strictAssertionAudience ?? true,
      singleUseAssertionJti: options.singleUseAssertionJti ?? true,
    };
  }

  /** Start a simulator listening on host:port (default 127.0.0.1, random port). */
  static async start(options: MoodleSimOptions = {}): Promise<MoodleSim> {
    const { publicKey, privateKey } = await takeKeyPair();
    const jwk = publicKey.export({ format: 'jwk' }) as JWK;
    const publicJwk: JWK = { kty: jwk.kty, n: jwk.n, e: jwk.e, kid: randomBytes(10).toString('hex'), alg: 'RS256', use: 'sig' };
    const app = express();
    app.disable('x-powered-by');
    const host = options.host ?? '127.0.0.1';
    const server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(options.port ?? 0, host, () => resolve(s));
      s.once('error', reject);
    });
    const port = (server.address() as AddressInfo).port;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    const sim = new MoodleSim(server, `http://${urlHost}:${port}`, privateKey, publicJwk, options);
    sim.routes(app);
    return sim;
  }

  /** Stop listening (drops open connections). */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      (this.server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    });
  }

  // ---------------------------------------------------------------- URLs

  get openidConfigurationUrl(): string {
    return `${this.issuer}/mod/lti/openid-configuration.php`;
  }
  get registrationEndpoint(): string {
    return `${this.issuer}/mod/lti/openid-registration.php`;
  }
  get jwksUrl(): string {
    return `${this.issuer}/mod/lti/certs.php`;
  }
  get authUrl(): string {
    return `${this.issuer}/mod/lti/auth.php`;
  }
  get tokenUrl(): string {
    return `${this.issuer}/mod/lti/token.php`;
  }
  lineItemsUrl(courseId: string, typeId: string | number): string {
    return `${this.issuer}/mod/lti/services.php/${courseId}/lineitems?type_id=${typeId}`;
  }
  lineItemUrl(courseId: string, lineItemId: number, typeId: string | number): string {
    return `${this.issuer}/mod/lti/services.php/${courseId}/lineitems/${lineItemId}/lineitem?type_id=${typeId}`;
  }
  /** Scores URL of a line item id URL: `/scores` inserted before the query. */
  static scoresUrl(lineItemUrl: string): string {
    const u = new URL(lineItemUrl);
    u.pathname = u.pathname.replace(/\/$/, '') + '/scores';
    return u.toString();
  }
  membershipsUrl(courseId: string, typeId: string | number): string {
    return `${this.issuer}/mod/lti/services.php/CourseSection/${courseId}/bindings/${typeId}/memberships`;
  }

  /** Current time of the platform (seconds), including clockSkewSec. */
  nowSec(): number {
    return Math.floor(Date.now() / 1000) + this.clockSkewSec;
  }

  // ---------------------------------------------------------------- registration

  /**
   * The URL Moodle opens to start a dynamic registration: the tool URL with `openid_configuration` and
   * `registration_token` (RS256, valid 1 h, `sub` = the client id to be issued, `scope` = "reg")
   * added to its existing query.
   */
  dynamicRegistrationUrl(toolUrl: string): string {
    const u = new URL(toolUrl);
    u.searchParams.set('openid_configuration', this.openidConfigurationUrl);
    u.searchParams.set('registration_token', this.registrationToken());
    return u.toString();
  }

  /** Moodle's Manage tools page with the registration dialog open on `toolUrl` (what the admin pasted). */
  registrationDialogUrl(toolUrl: string): string {
    return `${this.issuer}/mod/lti/toolconfigure.php?url=${encodeURIComponent(toolUrl)}`;
  }

  /** A registration token as Moodle issues them (`sub` = new client id, scope "reg", 1 h). */
  registrationToken(opts: { clientId?: string; expiresIn?: number; scope?: string } = {}): string {
    const iat = this.nowSec();
    return this.sign({ sub: opts.clientId ?? randomString(15), scope: opts.scope ?? 'reg', iat, exp: iat + (opts.expiresIn ?? 3600) }, {});
  }

  /** Click "Activate" on a pending tool's card. */
  activateTool(clientId: string): void {
    this.tool(clientId).state = 'active';
  }

  /** Manual registration (LTI 1.3, keyset URL); active at once. */
  addTool(o: AddToolOptions): { clientId: string; deploymentId: string } {
    const clientId = randomString(15);
    const typeId = this.nextTypeId++;
    const scopes = o.scopes ?? [SCOPES.lineItem, SCOPES.lineItemReadOnly, SCOPES.resultReadOnly, SCOPES.score, SCOPES.nrps];
    const gradeSync: 0 | 1 | 2 = scopes.includes(SCOPES.lineItem)
      ? 2
      : [SCOPES.score, SCOPES.resultReadOnly, SCOPES.lineItemReadOnly].some((s) => scopes.includes(s))
        ? 1
        : 0;
    const tool: SimTool = {
      clientId,
      typeId,
      deploymentIds: [String(typeId)],
      name: o.name ?? 'Manual tool',
      source: 'manual',
      state: 'active',
      loginUrl: o.loginUrl,
      redirectUris: [...o.redirectUris],
      jwksUrl: o.jwksUrl,
      targetLinkUri: o.targetLinkUri,
      domain: domainOf(o.targetLinkUri),
      deepLinking: o.deepLinking ?? o.deepLinkingUrl !== undefined,
      deepLinkingUrl: o.deepLinkingUrl,
      shareName: o.shareName ?? true,
      shareEmail: o.shareEmail ?? true,
      gradeSync,
      memberships: scopes.includes(SCOPES.nrps),
      scopes: grantedScopes(gradeSync, scopes.includes(SCOPES.nrps)),
      customParameters: { ...(o.customParameters ?? {}) },
    };
    this.tools.set(clientId, tool);
    return { clientId, deploymentId: String(typeId) };
  }

  /** A further deployment of the same client (a new deployment id). */
  addDeployment(clientId: string): string {
    const tool = this.tool(clientId);
    const id = String(this.nextTypeId++);
    tool.deploymentIds.push(id);
    return id;
  }

  // ---------------------------------------------------------------- courses, users, activities

  addCourse(o: { id?: string; label: string; title: string }): SimCourse {
    const id = o.id ?? String(this.nextCourseId++);
    const c: SimCourse = { id, label: o.label, title: o.title };
    this.courses.set(id, c);
    if (!this.enrolments.has(id)) this.enrolments.set(id, new Map());
    return c;
  }

  addUser(o: { id?: string; name?: string; given: string; family: string; email: string; username: string }): SimUser {
    const id = o.id ?? String(this.nextUserId++);
    const u: SimUser = { id, name: o.name ?? `${o.given} ${o.family}`, given: o.given, family: o.family, email: o.email, username: o.username };
    this.users.set(id, u);
    return u;
  }

  enrol(courseId: string, userId: string, role: CourseRole): void {
    this.course(courseId);
    this.user(userId);
    this.enrolments.get(courseId)!.set(userId, role);
  }

  unenrol(courseId: string, userId: string): void {
    this.enrolments.get(courseId)?.delete(userId);
  }

  /** Add an LTI activity; returns its resource link id. Creates its line item when `lineItem` is given and the tool accepts grades. */
  addActivity(o: AddActivityOptions): string {
    const tool = this.tool(o.clientId);
    this.course(o.courseId);
    const deploymentId = o.deploymentId ?? tool.deploymentIds[0]!;
    if (!tool.deploymentIds.includes(deploymentId)) throw new Error(`deployment ${deploymentId} is not a deployment of ${o.clientId}`);
    const id = String(this.nextInstanceId++);
    const act: SimActivity = {
      id,
      cmid: this.nextCmid++,
      courseId: o.courseId,
      clientId: o.clientId,
      deploymentId,
      title: o.title,
      description: o.description ?? '',
      url: o.url,
      custom: { ...(o.custom ?? {}) },
    };
    this.activities.set(id, act);
    if (o.lineItem && tool.gradeSync > 0) {
      const li = this.createLineItem({
        courseId: o.courseId,
        clientId: o.clientId,
        typeId: deploymentId,
        label: o.lineItem.label ?? o.title,
        scoreMaximum: o.lineItem.scoreMaximum,
        resourceId: o.lineItem.resourceId,
        tag: o.lineItem.tag,
        resourceLinkId: id,
        activityItem: true,
      });
      act.lineItemId = li.id;
    }
    return id;
  }

  /** The line item of an activity, if it accepts grades. */
  activityLineItem(activityId: string): SimLineItem | undefined {
    const a = this.activities.get(activityId);
    return a?.lineItemId !== undefined ? this.lineItems.get(a.lineItemId) : undefined;
  }

  /** Current gradebook entry. */
  grade(lineItemId: number, userId: string): StoredGrade | undefined {
    return this.grades.get(`${lineItemId}:${userId}`);
  }

  /**
   * A course like the fixtures: "LTI101 / LTI Test Course 101", teacher Terry Teacher, students Sam Student,
   * Sasha Scholar and Sandi Learner.
   */
  seedDefault(): { course: SimCourse; teacher: SimUser; students: SimUser[] } {
    const course = this.addCourse({ label: 'LTI101', title: 'LTI Test Course 101' });
    const teacher = this.addUser({ given: 'Terry', family: 'Teacher', email: 'teacher1@example.com', username: 'teacher1' });
    const students = [
      this.addUser({ given: 'Sam', family: 'Student', email: 'student1@example.com', username: 'student1' }),
      this.addUser({ given: 'Sasha', family: 'Scholar', email: 'student2@example.com', username: 'student2' }),
      this.addUser({ given: 'Sandi', family: 'Learner', email: 'student3@example.com', username: 'student3' }),
    ];
    this.enrol(course.id, teacher.id, 'Instructor');
    for (const s of students) this.enrol(course.id, s.id, 'Learner');
    return { course, teacher, students };
  }

  // ---------------------------------------------------------------- launches

  /**
   * Start a launch as Moodle does (third-party initiated login): returns the tool's login URL and the
   * parameters Moodle sends, plus the MoodleSession cookie the authorization request must carry
   * (put it in the browser's jar for `issuer`). `lti_message_hint` is usable once.
   */
  loginInitiation(o: LaunchOptions): LoginInitiation {
    const session = this.newSession(o.userId);
    const launch = this.createLaunch(o, session.id, o.presentation ?? 'iframe', this.storageTarget);
    return this.describeLaunch(launch, session);
  }

  /**
   * URL of the course page that launches the tool in a browser: it logs the user in (sets the
   * MoodleSession cookie) and frames the tool (`iframe`, default, like Moodle) or auto-posts the login
   * initiation top-level (`window`). Every visit starts a fresh launch.
   */
  launchPageUrl(o: LaunchPageSpec): string {
    const ticket = randomBytes(9).toString('base64url');
    this.tickets.set(ticket, { ...o });
    return `${this.issuer}/course/launch.php?ticket=${ticket}`;
  }

  /**
   * The claims Moodle would put in the id_token for this launch (before signing), e.g. to mint
   * variations. `nonce` defaults to a random one.
   */
  launchClaims(o: LaunchOptions & { nonce?: string }): Claims {
    const launch = this.createLaunch(o, '', o.presentation ?? 'iframe', false, false);
    return this.buildClaims(launch, o.nonce ?? randomString(25));
  }

  /**
   * Sign arbitrary claims as the platform would (or wrongly, per options). `iat`/`exp` are set unless
   * given (exp = iat + expiresIn, default 60 like Moodle); `iss` defaults to the issuer.
   */
  mintIdToken(claims: Claims, opts: MintOptions = {}): string {
    const iat = this.nowSec() + (opts.iatOffsetSec ?? 0);
    const payload: Claims = { iss: this.issuer, ...claims };
    if (claims.iat === undefined || opts.iatOffsetSec !== undefined) payload.iat = iat;
    if (claims.exp === undefined || opts.expiresIn !== undefined || opts.iatOffsetSec !== undefined) {
      payload.exp = (payload.iat as number) + (opts.expiresIn ?? 60);
    }
    for (const k of opts.omit ?? []) delete payload[k];
    for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
    return this.sign(payload, opts);
  }

  /**
   * Sign any payload (header `{typ: 'JWT', alg, kid}`): RS256/RS384/RS512 with the platform key (or
   * the unpublished 'other' key), HS256 with {@link HS256_SECRET}, or 'none' (unsigned).
   */
  sign(payload: Claims, opts: Pick<MintOptions, 'kid' | 'key' | 'alg'> = {}): string {
    const alg = opts.alg ?? 'RS256';
    const header = { typ: 'JWT', alg, kid: opts.kid ?? this.kid };
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = `${b64(header)}.${b64(payload)}`;
    if (alg === 'none') return `${input}.`;
    if (alg === 'HS256') return `${input}.${createHmac('sha256', HS256_SECRET).update(input).digest('base64url')}`;
    const m = /^RS(256|384|512)$/.exec(alg);
    if (!m) throw new Error(`MoodleSim cannot sign with ${alg}`);
    const signer = createSign(`RSA-SHA${m[1]}`);
    signer.update(input);
    return `${input}.${signer.sign(opts.key === 'other' ? this.otherKey() : this.privateKey).toString('base64url')}`;
  }

  /** A second RSA key, never published (generated on first use). */
  private otherKey(): KeyObject {
    otherKeyObject ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    return otherKeyObject;
  }

  /** Issue an access token directly (bypassing token.php), e.g. for service tests. */
  issueAccessToken(clientId: string, scopes: string[], lifeSec = ACCESS_TOKEN_LIFE): string {
    const token = randomBytes(16).toString('hex');
    this.accessTokens.set(token, { token, clientId, scopes: [...scopes], expiresAt: this.nowSec() + lifeSec });
    this.stats.tokensIssued++;
    return token;
  }

  // ---------------------------------------------------------------- internals: model

  tool(clientId: string): SimTool {
    const t = this.tools.get(clientId);
    if (!t) throw new Error(`unknown client ${clientId}`);
    return t;
  }
  course(id: string): SimCourse {
    const c = this.courses.get(id);
    if (!c) throw new Error(`unknown course ${id}`);
    return c;
  }
  user(id: string): SimUser {
    const u = this.users.get(id);
    if (!u) throw new Error(`unknown user ${id}`);
    return u;
  }
  /** The client that owns a deployment (type) id. */
  toolByDeployment(deploymentId: string): SimTool | undefined {
    for (const t of this.tools.values()) if (t.deploymentIds.includes(deploymentId)) return t;
    return undefined;
  }

  private createLineItem(o: Omit<SimLineItem, 'id' | 'url'>): SimLineItem {
    const id = this.nextLineItemId++;
    const li: SimLineItem = { ...o, id, url: this.lineItemUrl(o.courseId, id, o.typeId) };
    this.lineItems.set(id, li);
    return li;
  }

  private newSession(userId: string): Session {
    this.user(userId);
    const s: Session = { id: randomBytes(13).toString('hex'), userId, sesskey: randomString(10) };
    this.sessions.set(s.id, s);
    return s;
  }

  private sessionCookie(s: Session): string {
    const secure = this.issuer.startsWith('https:') ? '; Secure; SameSite=None' : '';
    return `MoodleSession=${s.id}; path=/; HttpOnly${secure}`;
  }

  private createLaunch(o: LaunchOptions, sessionId: string, presentation: Presentation, storage: boolean, store = true): Launch {
    const tool = this.tool(o.clientId);
    this.course(o.courseId);
    this.user(o.userId);
    const messageType = o.messageType ?? 'LtiResourceLinkRequest';
    if (store) {
      // Moodle: only enrolled users reach the activity; only teachers may "Select content".
      const role = this.roleOf(o.courseId, o.userId);
      if (!role) throw new Error(`user ${o.userId} is not enrolled in course ${o.courseId}`);
      if (messageType === 'LtiDeepLinkingRequest' && role !== 'Instructor') throw new Error('only instructors can make a deep linking request');
    }
    let activity: SimActivity | undefined;
    if (messageType !== 'LtiDeepLinkingRequest') {
      if (!o.activityId) throw new Error(`${messageType} needs activityId`);
      activity = this.activities.get(o.activityId);
      if (!activity) throw new Error(`unknown activity ${o.activityId}`);
      if (activity.clientId !== tool.clientId) throw new Error(`activity ${o.activityId} is not an activity of ${tool.clientId}`);
    }
    const deploymentId = o.deploymentId ?? activity?.deploymentId ?? tool.deploymentIds[0]!;
    let targetLinkUri = o.targetLinkUri;
    if (!targetLinkUri) {
      if (messageType === 'LtiDeepLinkingRequest') targetLinkUri = tool.deepLinkingUrl || tool.targetLinkUri;
      else if (messageType === 'LtiSubmissionReviewRequest') targetLinkUri = tool.submissionReviewUrl || activity?.url || tool.targetLinkUri;
      else targetLinkUri = activity?.url || tool.targetLinkUri;
    }
    const cmid = activity?.cmid;
    const launchId = `ltilaunch${cmid ?? ''}_${randomInt(100000000, 999999999)}`;
    let forUserId = o.forUserId;
    if (messageType === 'LtiSubmissionReviewRequest' && !forUserId) {
      forUserId = [...(this.enrolments.get(o.courseId) ?? new Map<string, CourseRole>()).entries()].find(([, r]) => r === 'Learner')?.[0];
    }
    const hint = cmid !== undefined ? { cmid, launchid: launchId } : { launchid: launchId };
    const params: Record<string, string> = {
      iss: this.issuer,
      target_link_uri: targetLinkUri,
      login_hint: o.userId,
      lti_message_hint: JSON.stringify(hint),
      client_id: tool.clientId,
      lti_deployment_id: deploymentId,
    };
    if (storage) params.lti_storage_target = STORAGE_FRAME;
    const launch: Launch = {
      launchId,
      sessionId,
      used: false,
      clientId: tool.clientId,
      deploymentId,
      userId: o.userId,
      courseId: o.courseId,
      activityId: activity?.id,
      messageType,
      locale: o.locale ?? 'en',
      method: o.method ?? 'POST',
      targetLinkUri,
      presentation,
      forUserId,
      dlTitle: o.dlTitle,
      dlText: o.dlText,
      dlData: o.dlData,
      storageTarget: storage,
      tamper: o.tamper,
      params,
    };
    if (store) this.launches.set(launchId, launch);
    return launch;
  }

  private describeLaunch(launch: Launch, session: Session): LoginInitiation {
    const tool = this.tool(launch.clientId);
    const u = new URL(tool.loginUrl);
    for (const [k, v] of Object.entries(launch.params)) u.searchParams.set(k, v);
    return {
      url: tool.loginUrl,
      method: launch.method,
      params: { ...launch.params },
      launchId: launch.launchId,
      cookie: `MoodleSession=${session.id}`,
      getUrl: u.toString(),
    };
  }

  private roleOf(courseId: string, userId: string): CourseRole | undefined {
    return this.enrolments.get(courseId)?.get(userId);
  }

  private buildClaims(launch: Launch, nonce: string): Claims {
    const tool = this.tool(launch.clientId);
    const course = this.course(launch.courseId);
    const user = this.user(launch.userId);
    const activity = launch.activityId ? this.activities.get(launch.activityId) : undefined;
    const session = this.sessions.get(launch.sessionId);
    const sesskey = session?.sesskey ?? randomString(10);
    const role = launch.messageType === 'LtiDeepLinkingRequest' ? 'Instructor' : (this.roleOf(course.id, user.id) ?? 'Learner');
    const iat = this.nowSec();
    const c: Claims = {
      nonce,
      iat,
      exp: iat + 60,
      iss: this.issuer,
      aud: tool.clientId,
      [LTI.deploymentId]: launch.deploymentId,
      [LTI.targetLinkUri]: launch.targetLinkUri,
      sub: user.id,
      [LTI.lis]: { person_sourcedid: '', course_section_sourcedid: '' },
      [LTI.roles]: [ROLE_URI[role]],
      [LTI.context]: { id: course.id, label: course.label, title: course.title, type: ['CourseSection'] },
      [LTI.messageType]: launch.messageType,
    };
    const lineItem = activity?.lineItemId !== undefined ? this.lineItems.get(activity.lineItemId) : undefined;
    if (activity) {
      c[LTI.resourceLink] = { title: activity.title, description: activity.description, id: activity.id };
      if (lineItem) {
        const data = { instanceid: activity.id, userid: user.id, typeid: launch.deploymentId, launchid: randomInt(1000000000, 2147483647) };
        const json = JSON.stringify(data);
        c[LTI.basicOutcome] = {
          lis_result_sourcedid: JSON.stringify({ data, hash: createHmac('sha256', this.hashSecret).update(json).digest('hex') }),
          lis_outcome_service_url: `${this.issuer}/mod/lti/service.php`,
        };
      }
    }
    if (tool.shareName) {
      c.given_name = user.given;
      c.family_name = user.family;
      c.name = user.name;
    }
    c[LTI.ext] = tool.shareName ? { user_username: user.username, lms: 'moodle-2' } : { lms: 'moodle-2' };
    if (tool.shareEmail) c.email = user.email;
    if (launch.messageType === 'LtiDeepLinkingRequest') {
      c[LTI.launchPresentation] = { locale: launch.locale };
    } else {
      const container = launch.presentation === 'window' ? 4 : 3;
      c[LTI.launchPresentation] = {
        locale: launch.locale,
        document_target: launch.presentation,
        return_url: `${this.issuer}/mod/lti/return.php?course=${course.id}&launch_container=${container}&instanceid=${activity?.id ?? ''}&sesskey=${sesskey}`,
      };
    }
    c[LTI.toolPlatform] = {
      product_family_code: 'moodle',
      version: MOODLE_VERSION,
      guid: createHash('md5').update(this.issuer).digest('hex'),
      name: 'jejaksim',
      description: 'Jejak test Moodle (MoodleSim)',
    };
    c[LTI.version] = '1.3.0';
    const custom: Record<string, string> = { ...tool.customParameters, ...(activity?.custom ?? {}) };
    if (tool.memberships) custom.context_memberships_url = this.membershipsUrl(course.id, launch.deploymentId);
    if (Object.keys(custom).length) c[LTI.custom] = custom;
    if (tool.gradeSync > 0) {
      const scope = tool.gradeSync === 2 ? [SCOPES.lineItem, SCOPES.lineItemReadOnly, SCOPES.resultReadOnly, SCOPES.score] : [SCOPES.lineItemReadOnly, SCOPES.resultReadOnly, SCOPES.score];
      const ep: Record<string, unknown> = { scope, lineitems: this.lineItemsUrl(course.id, launch.deploymentId) };
      if (lineItem) ep.lineitem = lineItem.url;
      c[LTI.agsEndpoint] = ep;
    }
    if (tool.memberships) {
      c[LTI.nrps] = { context_memberships_url: this.membershipsUrl(course.id, launch.deploymentId), service_versions: ['1.0', '2.0'] };
    }
    if (launch.messageType === 'LtiSubmissionReviewRequest' && launch.forUserId) {
      const fu = this.users.get(launch.forUserId);
      const forUser: Record<string, unknown> = { user_id: launch.forUserId, roles: [ROLE_URI.Learner] };
      if (fu && tool.shareName) Object.assign(forUser, { name: fu.name, given_name: fu.given, family_name: fu.family });
      if (fu && tool.shareEmail) forUser.email = fu.email;
      c[LTI.forUser] = forUser;
    }
    if (launch.messageType === 'LtiDeepLinkingRequest') {
      const settings: Record<string, unknown> = {
        accept_types: ['ltiResourceLink'],
        accept_presentation_document_targets: ['frame', 'iframe', 'window'],
        accept_copy_advice: false,
        accept_multiple: true,
        accept_unsigned: false,
        auto_create: false,
        can_confirm: false,
        deep_link_return_url: `${this.issuer}/mod/lti/contentitem_return.php?course=${course.id}&id=${launch.deploymentId}&sesskey=${sesskey}`,
      };
      if (launch.dlTitle !== undefined) settings.title = launch.dlTitle;
      if (launch.dlText !== undefined) settings.text = launch.dlText;
      if (launch.dlData !== undefined) settings.data = launch.dlData;
      c[LTI.dlSettings] = settings;
      if (session) {
        this.dlReturns.set(sesskey, {
          sesskey,
          sessionId: session.id,
          courseId: course.id,
          typeId: launch.deploymentId,
          clientId: tool.clientId,
          deploymentId: launch.deploymentId,
          data: launch.dlData,
        });
      }
    }
    return c;
  }

  private signLaunch(launch: Launch, nonce: string): { token: string; claims: Claims } {
    let claims = this.buildClaims(launch, nonce);
    const t = launch.tamper;
    if (!t) return { token: this.sign(claims), claims };
    if (typeof t.claims === 'function') claims = t.claims(claims);
    else if (t.claims) claims = { ...claims, ...t.claims };
    const opts: MintOptions = { ...t };
    const token = this.mintIdToken(claims, opts);
    return { token, claims: decodeJwt(token) as Claims };
  }

  // ---------------------------------------------------------------- tool keys

  private async fetchJwks(url: string): Promise<JWK[]> {
    this.stats.jwksFetches++;
    const res = await fetch(url, { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`JWKS ${url} answered ${res.status}`);
    const body = (await res.json()) as { keys?: JWK[] };
    if (!Array.isArray(body.keys)) throw new Error(`JWKS ${url} has no keys`);
    this.jwksCache.set(url, body.keys);
    return body.keys;
  }

  /** Find the tool's key for a JWT header (cached JWKS; refetched on unknown kid). */
  private async toolKey(tool: SimTool, header: { kid?: string; alg?: string }): Promise<KeyLike | Uint8Array> {
    const pick = (keys: JWK[]) => (header.kid ? keys.find((k) => k.kid === header.kid) : keys.length === 1 ? keys[0] : undefined);
    let keys = this.jwksCache.get(tool.jwksUrl);
    let jwk = keys ? pick(keys) : undefined;
    if (!jwk) {
      keys = await this.fetchJwks(tool.jwksUrl);
      jwk = pick(keys);
    }
    if (!jwk) throw new Error(`no key with kid ${header.kid ?? '(none)'} in the tool's JWKS`);
    return importJWK(jwk, 'RS256');
  }

  private async verifyToolJwt(tool: SimTool, jwt: string, audience: string[] | undefined): Promise<Claims> {
    const { payload } = await jwtVerify(jwt, (h) => this.toolKey(tool, h), {
      algorithms: ['RS256'],
      audience,
      currentDate: new Date(this.nowSec() * 1000),
      clockTolerance: 5,
    });
    return payload as Claims;
  }

  // ---------------------------------------------------------------- HTTP

  private routes(app: express.Express): void {
    const form = express.urlencoded({ extended: false, limit: '1mb' });
    const text = express.text({ type: () => true, limit: '1mb' });

    app.get('/mod/lti/certs.php', (_req, res) => {
      res.json({ keys: [this.publicJwk] });
    });
    app.get('/mod/lti/openid-configuration.php', (_req, res) => {
      res.type('application/json; charset=utf-8').send(JSON.stringify(this.openidConfiguration(), null, 4));
    });
    app.post('/mod/lti/openid-registration.php', text, (req, res) => void this.handleRegistration(req, res));
    // Manage tools › "Add LTI Advantage": the tool's registration page in a dialog's iframe, closed on
    // the tool's org.imsglobal.lti.close message (only from that frame).
    app.get('/mod/lti/toolconfigure.php', (req, res) => {
      const frame = this.dynamicRegistrationUrl(str(req.query.url));
      res.type('html').send(page('Manage tools', `<div id="dialog" role="dialog"><iframe id="lti-registration" title="Register" src="${esc(frame)}" width="800" height="600"></iframe></div>`,
        `<script>addEventListener('message', function (e) {
  var f = document.getElementById('lti-registration');
  if (!f || e.source !== f.contentWindow || !e.data || e.data.subject !== 'org.imsglobal.lti.close') return;
  document.getElementById('dialog').remove();
  document.body.setAttribute('data-registration', 'closed');
});</script>`));
    });
    app.all('/mod/lti/auth.php', form, (req, res) => void this.handleAuth(req, res).catch((e) => this.fail(res, e)));
    app.post('/mod/lti/token.php', text, (req, res) => void this.handleToken(req, res).catch((e) => this.fail(res, e)));
    app.post('/mod/lti/contentitem_return.php', form, (req, res) => void this.handleDeepLinkReturn(req, res).catch((e) => this.fail(res, e)));
    app.get('/mod/lti/return.php', (req, res) => {
      res.type('html').send(page('Returned', `<p id="lti-return">Returned from the tool to course ${esc(str(req.query.course))}.</p>`));
    });
    app.get('/course/launch.php', (req, res) => void this.handleCoursePage(req, res).catch((e) => this.fail(res, e)));
    app.get('/mod/lti/launch.php', (req, res) => this.handleLaunchFrame(req, res));
    app.get('/mod/lti/post_message_forwarding.php', (_req, res) => {
      res.type('html').send(page('LTI storage', '<p>LTI platform storage</p>', '<script src="/lib/lti/postmessage.js"></script>'));
    });
    app.get('/lib/lti/postmessage.js', (_req, res) => {
      res.type('application/javascript').send(readFileSync(path.join(__dirname, 'static', 'lti-postmessage.js'), 'utf8'));
    });
    app.all(/^\/mod\/lti\/services\.php(\/.*)?$/, text, (req, res) => void this.handleServices(req, res).catch((e) => this.fail(res, e)));
    app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
      if (res.headersSent) return next(err);
      this.fail(res, err);
    });
  }

  private fail(res: Response, e: unknown): void {
    if (res.headersSent) return;
    if (e instanceof HttpError) {
      res.status(e.status).type('text/plain').send(e.message);
      return;
    }
    res.status(500).type('text/plain').send(`MoodleSim error: ${e instanceof Error ? e.message : String(e)}`);
  }

  /** The platform configuration as Moodle publishes it. */
  openidConfiguration(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      token_endpoint: this.tokenUrl,
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256'],
      jwks_uri: this.jwksUrl,
      authorization_endpoint: this.authUrl,
      registration_endpoint: this.registrationEndpoint,
      scopes_supported: [
        SCOPES.lineItem,
        SCOPES.lineItemReadOnly,
        SCOPES.resultReadOnly,
        SCOPES.score,
        SCOPES.nrps,
        SCOPES.toolSetting,
        'openid',
      ],
      response_types_supported: ['id_token'],
      subject_types_supported: ['public', 'pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: ['sub', 'iss', 'name', 'given_name', 'family_name', 'email'],
      [LTI.platformConfiguration]: {
        product_family_code: 'moodle',
        version: MOODLE_RELEASE,
        // As Moodle's openid-configuration.php publishes them: plain strings (the spec shows objects).
        messages_supported: ['LtiResourceLinkRequest', 'LtiDeepLinkingRequest'],
        placements: ['AddContentMenu'],
        variables: [
          'basic-lti-launch-request',
          'ContentItemSelectionRequest',
          'ToolProxyRegistrationRequest',
          'Context.id',
          'Context.title',
          'Context.label',
          'Context.sourcedId',
          'CourseSection.title',
          'CourseSection.label',
          'ResourceLink.id',
          'ResourceLink.title',
          'ResourceLink.description',
          'User.id',
          'User.username',
          'Person.name.full',
          'Person.name.given',
          'Person.name.family',
          'Person.email.primary',
          'Membership.role',
          'Moodle.Person.userGroupIds',
        ],
      },
    };
  }

  // ---- registration endpoint

  private async handleRegistration(req: Request, res: Response): Promise<void> {
    this.stats.registrationRequests++;
    const send = (code: number, message: string) => res.status(code).type('text/plain').send(message);
    const auth = req.get('authorization') ?? '';
    if (!auth.startsWith('Bearer ')) return void send(401, 'missing_registration_token');
    let clientId: string;
    try {
      const { payload } = await jwtVerify(auth.slice(7).trim(), await importJWK(this.publicJwk, 'RS256'), {
        algorithms: ['RS256'],
        currentDate: new Date(this.nowSec() * 1000),
      });
      if (payload.scope !== 'reg') return void send(403, 'Incorrect scope');
      clientId = String(payload.sub ?? '');
      if (!clientId) return void send(401, 'invalid_registration_token');
    } catch {
      return void send(401, 'invalid_registration_token');
    }
    if (this.tools.has(clientId)) return void send(401, 'token_already_used');
    let reg: Record<string, unknown>;
    try {
      reg = JSON.parse(typeof req.body === 'string' ? req.body : '');
      if (!reg || typeof reg !== 'object' || Array.isArray(reg)) throw new Error();
    } catch {
      return void send(400, 'invalid registration JSON');
    }
    const required = (o: Record<string, unknown>, key: string): unknown => {
      const v = o[key];
      if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) {
        throw new HttpError(400, `missing required attribute ${key}`);
      }
      return v;
    };
    try {
      const responseTypes = required(reg, 'response_types');
      const initiateLoginUri = String(required(reg, 'initiate_login_uri'));
      const redirectUris = required(reg, 'redirect_uris');
      const clientName = String(required(reg, 'client_name'));
      const jwksUri = String(required(reg, 'jwks_uri'));
      const authMethod = required(reg, 'token_endpoint_auth_method');
      const cfg = required(reg, LTI.toolConfiguration) as Record<string, unknown>;
      if (typeof cfg !== 'object' || Array.isArray(cfg)) throw new HttpError(400, `missing required attribute ${LTI.toolConfiguration}`);
      const domain = typeof cfg.domain === 'string' ? cfg.domain : '';
      if (!domain) throw new HttpError(400, 'missing_domain');
      const targetLinkUri = typeof cfg.target_link_uri === 'string' && cfg.target_link_uri ? cfg.target_link_uri : `https://${domain}`;
      if (domainOf(domain) !== domainOf(targetLinkUri)) throw new HttpError(400, 'domain_targetlinkuri_mismatch');
      if (!Array.isArray(responseTypes) || !responseTypes.includes('id_token')) throw new HttpError(400, 'invalid_response_types');
      if (!Array.isArray(redirectUris) || !redirectUris.every((u) => typeof u === 'string')) throw new HttpError(400, 'invalid_redirect_uris');
      if (authMethod !== 'private_key_jwt') throw new HttpError(400, 'invalid_token_endpoint_auth_method');
      if (reg.application_type !== undefined && reg.application_type !== '' && reg.application_type !== 'web') {
        throw new HttpError(400, 'invalid_application_type');
      }
      const scopes = typeof reg.scope === 'string' ? reg.scope.split(' ').filter(Boolean) : [];
      const claims = Array.isArray(cfg.claims) ? cfg.claims.map(String) : [];
      const messages = Array.isArray(cfg.messages) ? (cfg.messages as Array<Record<string, unknown>>) : [];
      const dl = messages.find((m) => m && m.type === 'LtiDeepLinkingRequest');
      const sr = messages.find((m) => m && m.type === 'LtiSubmissionReviewRequest');
      let gradeSync: 0 | 1 | 2 = 0;
      if ([SCOPES.score, SCOPES.resultReadOnly, SCOPES.lineItemReadOnly].some((s) => scopes.includes(s))) gradeSync = 1;
      if (scopes.includes(SCOPES.lineItem)) gradeSync = 2;
      const memberships = scopes.includes(SCOPES.nrps);
      const custom: Record<string, string> = {};
      if (cfg.custom_parameters && typeof cfg.custom_parameters === 'object') {
        for (const [k, v] of Object.entries(cfg.custom_parameters as Record<string, unknown>)) custom[k] = String(v);
      }
      const typeId = this.nextTypeId++;
      const tool: SimTool = {
        clientId,
        typeId,
        deploymentIds: [String(typeId)],
        name: clientName,
        source: 'dynamic',
        state: 'pending',
        loginUrl: initiateLoginUri,
        redirectUris: (redirectUris as string[]).map((u) => u.trim()),
        jwksUrl: jwksUri,
        targetLinkUri,
        domain: domainOf(domain),
        deepLinking: !!dl,
        deepLinkingUrl: dl && typeof dl.target_link_uri === 'string' && dl.target_link_uri ? dl.target_link_uri : undefined,
        submissionReviewUrl: sr && typeof sr.target_link_uri === 'string' && sr.target_link_uri ? sr.target_link_uri : undefined,
        shareName: ['name', 'given_name', 'family_name'].some((n) => claims.includes(n)),
        shareEmail: claims.includes('email'),
        gradeSync,
        memberships,
        scopes: grantedScopes(gradeSync, memberships),
        customParameters: custom,
        registration: reg,
        claimsRequested: claims,
        messages,
      };
      this.tools.set(clientId, tool);
      const toolCfg: Record<string, unknown> = {
        version: '1.3.0',
        deployment_id: String(typeId),
        target_link_uri: targetLinkUri,
        domain: tool.domain,
        description: typeof cfg.description === 'string' ? cfg.description : '',
      };
      if (tool.deepLinking) {
        toolCfg.messages = [tool.deepLinkingUrl ? { type: 'LtiDeepLinkingRequest', target_link_uri: tool.deepLinkingUrl } : { type: 'LtiDeepLinkingRequest' }];
      }
      if (Object.keys(custom).length) toolCfg.custom_parameters = custom;
      const respClaims = ['sub', 'iss'];
      if (tool.shareName) respClaims.push('name', 'family_name', 'given_name');
      if (tool.shareEmail) respClaims.push('email');
      toolCfg.claims = respClaims;
      res
        .status(200)
        .type('application/json; charset=utf-8')
        .send(
          JSON.stringify({
            client_id: clientId,
            response_types: ['id_token'],
            jwks_uri: jwksUri,
            initiate_login_uri: initiateLoginUri,
            grant_types: ['client_credentials', 'implicit'],
            redirect_uris: tool.redirectUris,
            application_type: 'web',
            token_endpoint_auth_method: 'private_key_jwt',
            client_name: clientName,
            logo_uri: typeof reg.logo_uri === 'string' ? reg.logo_uri : '',
            scope: tool.scopes.join(' '),
            [LTI.toolConfiguration]: toolCfg,
          }),
        );
    } catch (e) {
      if (e instanceof HttpError) return void send(e.status, e.message);
      throw e;
    }
  }

  // ---- course page and launch frame

  private async handleCoursePage(req: Request, res: Response): Promise<void> {
    const ticket = str(req.query.ticket);
    let spec: LaunchPageSpec | undefined = ticket ? this.tickets.get(ticket) : undefined;
    if (!spec && !ticket && req.query.client) {
      spec = {
        clientId: str(req.query.client),
        userId: str(req.query.user),
        courseId: str(req.query.course),
        activityId: str(req.query.activity) || undefined,
        messageType: (str(req.query.type) || undefined) as MessageType | undefined,
        locale: (str(req.query.locale) || undefined) as LaunchPageSpec['locale'],
        method: (str(req.query.method) || undefined) as LaunchPageSpec['method'],
        presentation: (str(req.query.presentation) || undefined) as Presentation | undefined,
      };
    }
    if (!spec) return void res.status(404).type('html').send(page('Not found', '<p>Unknown launch.</p>'));
    const tool = this.tools.get(spec.clientId);
    if (!tool) return void res.status(404).type('html').send(page('Error', '<p class="error">Tool not found.</p>'));
    if (tool.state !== 'active') {
      return void res
        .status(403)
        .type('html')
        .send(page('Error', `<p class="error" id="moodle-error">The tool "${esc(tool.name)}" is pending: an administrator must activate it before it can be used.</p>`));
    }
    const cookies = parseCookies(req.get('cookie'));
    let session = cookies.MoodleSession ? this.sessions.get(cookies.MoodleSession) : undefined;
    if (!session || session.userId !== spec.userId) session = this.newSession(spec.userId);
    res.setHeader('Set-Cookie', this.sessionCookie(session));
    const presentation = spec.presentation ?? 'iframe';
    const storage = this.storageTarget && presentation === 'iframe';
    const launch = this.createLaunch(spec, session.id, presentation, storage);
    const course = this.course(spec.courseId);
    const activity = launch.activityId ? this.activities.get(launch.activityId) : undefined;
    const title = `${course.label}: ${activity?.title ?? tool.name}`;
    if (presentation === 'window') {
      res.type('html').send(page(title, this.loginInitiationForm(launch)));
      return;
    }
    const storageHtml = storage
      ? `<iframe name="${STORAGE_FRAME}" id="${STORAGE_FRAME}" src="/mod/lti/post_message_forwarding.php" title="LTI storage" style="display:none"></iframe>`
      : '';
    const head = storage ? '<script src="/lib/lti/postmessage.js"></script>' : '';
    res.type('html').send(
      page(
        title,
        `<header><h1>${esc(course.title)}</h1><h2>${esc(activity?.title ?? tool.name)}</h2></header>
<main>
<iframe id="contentframe" name="contentframe" height="600px" width="100%" src="/mod/lti/launch.php?launchid=${encodeURIComponent(launch.launchId)}" title="${esc(activity?.title ?? tool.name)}" allow="microphone *; camera *; geolocation *; display-capture *; autoplay *; clipboard-write *" allowfullscreen></iframe>
${storageHtml}
</main>`,
        head,
      ),
    );
  }

  private loginInitiationForm(launch: Launch): string {
    const tool = this.tool(launch.clientId);
    if (launch.method === 'GET') {
      return autoForm(tool.loginUrl, launch.params, { name: 'ltiInitiateLoginForm', method: 'get' });
    }
    return autoForm(tool.loginUrl, launch.params, { name: 'ltiInitiateLoginForm' });
  }

  private handleLaunchFrame(req: Request, res: Response): void {
    const launch = this.launches.get(str(req.query.launchid));
    const sid = parseCookies(req.get('cookie')).MoodleSession;
    if (!launch || !sid || launch.sessionId !== sid) {
      res.status(403).type('html').send(page('Error', '<p class="error" id="moodle-error">You are not logged in.</p>'));
      return;
    }
    res.type('html').send(page('Launching…', this.loginInitiationForm(launch)));
  }

  // ---- auth.php

  private async handleAuth(req: Request, res: Response): Promise<void> {
    this.stats.authRequests++;
    const method = req.method === 'POST' ? 'POST' : 'GET';
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.query)) params[k] = str(v);
    if (method === 'POST' && req.body && typeof req.body === 'object') {
      for (const [k, v] of Object.entries(req.body as Record<string, unknown>)) params[k] = str(v);
    }
    const rec: AuthRequestRecord = { at: new Date(), method, params: { ...params }, outcome: 'error-page' };
    this.authRequests.push(rec);
    const sid = parseCookies(req.get('cookie')).MoodleSession;
    const session = sid ? this.sessions.get(sid) : undefined;

    // Like Moodle: without a session, first re-post the request from the platform's own origin.
    if (!session && !params.repost) {
      rec.outcome = 'repost';
      const fields = { ...params, repost: '1' };
      res.type('html').send(page('Redirecting', autoForm(this.authUrl, fields, { name: 'ltiRepostForm' })));
      return;
    }

    const errorPage = (status: number, error: string, desc: string) => {
      rec.outcome = 'error-page';
      rec.error = error;
      rec.errorDescription = desc;
      res.status(status).type('html').send(page('Error', `<p class="error" id="moodle-error" data-error="${esc(error)}">${esc(desc)}</p>`));
    };

    let launch: Launch | undefined;
    try {
      const hint = JSON.parse(params.lti_message_hint ?? '') as { launchid?: unknown };
      launch = typeof hint.launchid === 'string' ? this.launches.get(hint.launchid) : undefined;
    } catch {
      launch = undefined;
    }
    const redirectTool = launch ? this.tools.get(launch.clientId) : this.tools.get(params.client_id ?? '');
    if (!redirectTool) return errorPage(400, 'invalid_request', 'Invalid request: unknown client or launch');
    const redirectUri = params.redirect_uri ?? '';
    rec.redirectUri = redirectUri;
    if (!redirectTool.redirectUris.includes(redirectUri)) return errorPage(400, 'invalid_request', 'Invalid request: redirect_uri is not registered');
    if (redirectTool.state !== 'active') return errorPage(403, 'access_denied', 'The tool is pending and cannot be launched');

    const postError = (error: string, desc?: string) => {
      rec.outcome = 'error-post';
      rec.error = error;
      rec.errorDescription = desc;
      const fields: Record<string, string> = { error };
      if (desc) fields.error_description = desc;
      if (params.state !== undefined) fields.state = params.state;
      res.type('html').send(page('Error', autoForm(redirectUri, fields)));
    };
    const missing = ['scope', 'response_type', 'client_id', 'redirect_uri', 'login_hint', 'nonce', 'lti_message_hint'].filter((k) => !params[k]);
    if (missing.length) {
      if (launch && session && launch.sessionId === session.id) launch.used = true;
      return postError('invalid_request', `Missing ${missing.join(', ')}`);
    }
    if (!session) return postError('invalid_request', 'No session: the authentication request must come from the browser that started the launch');
    if (params.scope !== 'openid') return postError('invalid_scope');
    if (params.response_type !== 'id_token') return postError('unsupported_response_type');
    if (!launch || launch.sessionId !== session.id) return postError('invalid_request', 'Invalid lti_message_hint');
    if (launch.used) return postError('invalid_request', 'lti_message_hint already used');
    launch.used = true; // Moodle unsets the hint from the session on every attempt.
    rec.launchId = launch.launchId;
    if (params.client_id !== launch.clientId) return postError('unauthorized_client');
    if (params.login_hint !== session.userId || params.login_hint !== launch.userId) return postError('access_denied');
    if (params.response_mode !== 'form_post') return postError('invalid_request', params.response_mode ? 'Invalid response_mode' : 'Missing response_mode');
    if (params.prompt && params.prompt !== 'none') return postError('invalid_request', 'Invalid prompt');

    const { token, claims } = this.signLaunch(launch, params.nonce!);
    const fields: Record<string, string> = { id_token: token };
    if (params.state !== undefined) fields.state = params.state;
    rec.outcome = 'form';
    rec.idToken = token;
    rec.claims = claims;
    rec.state = params.state;
    res.type('html').send(page('Launching', autoForm(redirectUri, fields)));
  }

  // ---- faults

  /** Apply fault injection; returns true when the request was answered (or dropped). */
  private async injectFault(service: 'ags' | 'nrps' | 'token', req: Request, res: Response): Promise<boolean> {
    const f = this.faults.get(service);
    if (!f) return false;
    if (f.down) {
      this.stats.injectedFaults++;
      req.socket.destroy();
      return true;
    }
    if (f.delayMs) await new Promise((r) => setTimeout(r, f.delayMs));
    if (f.failRate && this.rand() < f.failRate) {
      this.stats.injectedFaults++;
      const status = f.status ?? 503;
      if (f.retryAfterSec !== undefined) res.setHeader('Retry-After', String(f.retryAfterSec));
      res.status(status).type('text/plain').send(`Injected fault ${status}`);
      return true;
    }
    return false;
  }

  // ---- token.php

  private async handleToken(req: Request, res: Response): Promise<void> {
    this.stats.tokenRequests++;
    if (await this.injectFault('token', req, res)) return;
    const fail = (error: string, description?: string) => {
      res.status(400).type('application/json').send(JSON.stringify(description ? { error, error_description: description } : { error }));
    };
    const contentType = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (contentType !== 'application/x-www-form-urlencoded') return fail('invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
    const p = new URLSearchParams(typeof req.body === 'string' ? req.body : '');
    const assertion = p.get('client_assertion') ?? '';
    const assertionType = p.get('client_assertion_type') ?? '';
    const grantType = p.get('grant_type') ?? '';
    const scope = p.get('scope') ?? '';
    if (!assertion || !assertionType || !grantType || !scope) return fail('invalid_request', 'client_assertion, client_assertion_type, grant_type and scope are required');
    if (assertionType !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || grantType !== 'client_credentials') {
      return fail('unsupported_grant_type');
    }
    let unverified: Claims;
    try {
      unverified = decodeJwt(assertion) as Claims;
      decodeProtectedHeader(assertion);
    } catch {
      return fail('invalid_request', 'client_assertion is not a JWT');
    }
    const sub = typeof unverified.sub === 'string' ? unverified.sub : '';
    if (!sub) return fail('invalid_request', 'client_assertion has no sub');
    const tool = this.tools.get(sub);
    if (!tool) return fail('invalid_client', 'unknown client');
    let claims: Claims;
    try {
      claims = await this.verifyToolJwt(tool, assertion, undefined);
    } catch (e) {
      return fail('invalid_client', `client_assertion rejected: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (claims.iss !== tool.clientId) return fail('invalid_client', 'iss must be the client_id');
    if (typeof claims.exp !== 'number') return fail('invalid_client', 'exp is required');
    if (this.opts.strictAssertionAudience) {
      const aud = Array.isArray(claims.aud) ? claims.aud.map(String) : [String(claims.aud ?? '')];
      if (!aud.some((a) => a === this.tokenUrl || a === this.issuer)) return fail('invalid_client', 'aud must be the token endpoint');
    }
    if (this.opts.singleUseAssertionJti) {
      const jti = typeof claims.jti === 'string' ? claims.jti : '';
      if (!jti) return fail('invalid_client', 'jti is required');
      const key = `${tool.clientId}:${jti}`;
      if (this.usedJtis.has(key)) return fail('invalid_client', 'jti already used');
      this.usedJtis.add(key);
    }
    const requested = scope.split(' ').filter(Boolean);
    const granted = requested.filter((s, i) => tool.scopes.includes(s) && requested.indexOf(s) === i);
    if (!granted.length) return fail('invalid_scope');
    const token = this.issueAccessToken(tool.clientId, granted);
    res
      .status(200)
      .type('application/json')
      .send(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: ACCESS_TOKEN_LIFE, scope: granted.join(' ') }));
  }

  // ---- contentitem_return.php

  private async handleDeepLinkReturn(req: Request, res: Response): Promise<void> {
    const sesskey = str(req.query.sesskey);
    const courseId = str(req.query.course);
    const typeId = str(req.query.id);
    const jwt = req.body && typeof req.body === 'object' ? str((req.body as Record<string, unknown>).JWT) : '';
    const ctx = this.dlReturns.get(sesskey);
    const record: DeepLinkResponseRecord = {
      at: new Date(),
      clientId: ctx?.clientId ?? '',
      deploymentId: ctx?.deploymentId ?? typeId,
      courseId,
      claims: {},
      contentItems: [],
      activityIds: [],
    };
    const refuse = (status: number, why: string) => {
      record.error = why;
      this.deepLinkResponses.push(record);
      res.status(status).type('html').send(page('Error', `<p class="error" id="moodle-error">${esc(why)}</p>`));
    };
    const sid = parseCookies(req.get('cookie')).MoodleSession;
    if (!ctx || ctx.courseId !== courseId || ctx.typeId !== typeId) return refuse(400, 'Invalid sesskey');
    if (!sid || sid !== ctx.sessionId) return refuse(403, 'You are not logged in (no MoodleSession)');
    if (!jwt) return refuse(400, 'Missing JWT');
    const tool = this.tool(ctx.clientId);
    let claims: Claims;
    try {
      claims = await this.verifyToolJwt(tool, jwt, [this.issuer]);
    } catch (e) {
      return refuse(400, `Invalid JWT: ${e instanceof Error ? e.message : String(e)}`);
    }
    record.claims = claims;
    if (claims.iss !== tool.clientId) return refuse(400, 'iss must be the client_id');
    if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number') return refuse(400, 'exp and iat are required');
    const nonce = typeof claims.nonce === 'string' ? claims.nonce : '';
    if (!nonce) return refuse(400, 'nonce is required');
    if (this.usedDlNonces.has(`${tool.clientId}:${nonce}`)) return refuse(400, 'nonce already used');
    if (claims[LTI.messageType] !== 'LtiDeepLinkingResponse') return refuse(400, 'message_type must be LtiDeepLinkingResponse');
    if (claims[LTI.version] !== '1.3.0') return refuse(400, 'version must be 1.3.0');
    if (claims[LTI.deploymentId] !== ctx.deploymentId) return refuse(400, 'deployment_id does not match');
    if (ctx.data !== undefined && claims[LTI.dlData] !== ctx.data) return refuse(400, 'data must be returned unchanged');
    const items = claims[LTI.dlContentItems] ?? [];
    if (!Array.isArray(items)) return refuse(400, 'content_items must be an array');
    this.usedDlNonces.add(`${tool.clientId}:${nonce}`);
    this.dlReturns.delete(sesskey);
    record.contentItems = items as Array<Record<string, unknown>>;
    for (const raw of record.contentItems) {
      if (!raw || raw.type !== 'ltiResourceLink') continue;
      const li = raw.lineItem as Record<string, unknown> | undefined;
      const custom: Record<string, string> = {};
      if (raw.custom && typeof raw.custom === 'object') for (const [k, v] of Object.entries(raw.custom)) custom[k] = String(v);
      const id = this.addActivity({
        courseId,
        clientId: tool.clientId,
        deploymentId: ctx.deploymentId,
        title: typeof raw.title === 'string' ? raw.title : tool.name,
        description: typeof raw.text === 'string' ? raw.text : '',
        url: typeof raw.url === 'string' ? raw.url : undefined,
        custom,
        lineItem:
          li && isNumeric(li.scoreMaximum)
            ? {
                scoreMaximum: Number(li.scoreMaximum),
                label: typeof li.label === 'string' ? li.label : undefined,
                resourceId: typeof li.resourceId === 'string' ? li.resourceId : undefined,
                tag: typeof li.tag === 'string' ? li.tag : undefined,
              }
            : undefined,
      });
      record.activityIds.push(id);
    }
    this.deepLinkResponses.push(record);
    const msg = typeof claims[LTI.dlMsg] === 'string' ? `<p id="dl-msg">${esc(claims[LTI.dlMsg])}</p>` : '';
    res.type('html').send(page('Content added', `<p id="dl-done">${record.activityIds.length} item(s) added.</p>${msg}`));
  }

  // ---- services.php (AGS, NRPS)

  private bearer(req: Request, typeId: string, scopes: string[]): { tool: SimTool } | { status: number; reason: string } {
    const auth = req.get('authorization') ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    if (!m) return { status: 401, reason: 'Missing bearer token' };
    const rec = this.accessTokens.get(m[1]!);
    if (!rec || rec.expiresAt <= this.nowSec()) return { status: 401, reason: 'Invalid or expired access token' };
    const tool = this.tools.get(rec.clientId);
    if (!tool || !tool.deploymentIds.includes(typeId)) return { status: 401, reason: 'Access token is not valid for this type_id' };
    if (!scopes.some((s) => rec.scopes.includes(s))) return { status: 401, reason: 'Access token lacks the required scope' };
    return { tool };
  }

  private async handleServices(req: Request, res: Response): Promise<void> {
    const sub = req.path.replace(/^\/mod\/lti\/services\.php/, '');
    const nrps = /^\/CourseSection\/([^/]+)\/bindings\/([^/]+)\/memberships\/?$/.exec(sub);
    if (nrps) {
      this.stats.nrpsRequests++;
      if (await this.injectFault('nrps', req, res)) return;
      return this.handleMemberships(req, res, nrps[1]!, nrps[2]!);
    }
    const ags = /^\/([^/]+)\/lineitems(?:\/(\d+)\/lineitem(?:\/(scores|results))?)?\/?$/.exec(sub);
    if (!ags) return void res.status(404).type('text/plain').send('No service handles this path');
    this.stats.agsRequests++;
    if (await this.injectFault('ags', req, res)) return;
    const courseId = ags[1]!;
    const itemId = ags[2] ? Number(ags[2]) : undefined;
    const kind = ags[3] as 'scores' | 'results' | undefined;
    const typeId = str(req.query.type_id);
    if (!typeId) return void res.status(403).type('text/plain').send('type_id is required');
    if (!this.courses.has(courseId)) return void res.status(404).type('text/plain').send(`Not Found: Course ${courseId} doesn't exist.`);
    if (itemId === undefined) return this.handleLineItems(req, res, courseId, typeId);
    if (kind === 'scores') return this.handleScores(req, res, courseId, itemId, typeId);
    if (kind === 'results') return this.handleResults(req, res, courseId, itemId, typeId);
    return this.handleLineItem(req, res, courseId, itemId, typeId);
  }

  private lineItemJson(li: SimLineItem): Record<string, unknown> {
    const o: Record<string, unknown> = { id: li.url, label: li.label, scoreMaximum: li.scoreMaximum };
    if (li.resourceId !== undefined) o.resourceId = li.resourceId;
    if (li.tag !== undefined) o.tag = li.tag;
    if (li.resourceLinkId !== undefined) o.resourceLinkId = li.resourceLinkId;
    if (li.startDateTime !== undefined) o.startDateTime = li.startDateTime;
    if (li.endDateTime !== undefined) o.endDateTime = li.endDateTime;
    return o;
  }

  private parseJsonBody(req: Request): Record<string, unknown> | undefined {
    try {
      const v = JSON.parse(typeof req.body === 'string' ? req.body : '');
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  private contentType(req: Request): string {
    return (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  }

  private pageLinks(req: Request, total: number, from: number, limit: number | undefined): string | undefined {
    if (!limit || from + limit >= total) return undefined;
    const u = new URL(`${this.issuer}${req.originalUrl}`);
    u.searchParams.set('limit', String(limit));
    u.searchParams.set('from', String(from + limit));
    return `<${u.toString()}>; rel="next"`;
  }

  private async handleLineItems(req: Request, res: Response, courseId: string, typeId: string): Promise<void> {
    if (req.method === 'GET') {
      const a = this.bearer(req, typeId, [SCOPES.lineItem, SCOPES.lineItemReadOnly]);
      if ('status' in a) return void res.status(a.status).type('text/plain').send(a.reason);
      let items = [...this.lineItems.values()].filter((li) => li.courseId === courseId && li.clientId === a.tool.clientId);
      const rl = str(req.query.resource_link_id);
      const rid = str(req.query.resource_id);
      const tag = str(req.query.tag);
      if (rl) items = items.filter((li) => li.resourceLinkId === rl);
      if (rid) items = items.filter((li) => li.resourceId === rid);
      if (tag) items = items.filter((li) => li.tag === tag);
      const limit = Number(str(req.query.limit)) || undefined;
      const from = Number(str(req.query.from)) || 0;
      const pageItems = limit ? items.slice(from, from + limit) : items.slice(from);
      const link = this.pageLinks(req, items.length, from, limit);
      if (link) res.setHeader('Link', link);
      res.status(200).type(MEDIA.lineItemContainer).send(JSON.stringify(pageItems.map((li) => this.lineItemJson(li))));
      return;
    }
    if (req.method === 'POST') {
      const a = this.bearer(req, typeId, [SCOPES.lineItem]);
      if ('status' in a) return void res.status(a.status).type('text/plain').send(a.reason);
      if (this.contentType(req) !== MEDIA.lineItem) return void res.status(400).type('text/plain').send(`Content-Type must be ${MEDIA.lineItem}`);
      const body = this.parseJsonBody(req);
      if (!body || typeof body.label !== 'string' || !body.label || !isNumeric(body.scoreMaximum) || Number(body.scoreMaximum) <= 0) {
        return void res.status(400).type('text/plain').send('label and a positive scoreMaximum are required');
      }
      let resourceLinkId: string | undefined;
      if (body.resourceLinkId !== undefined && body.resourceLinkId !== '') {
        resourceLinkId = String(body.resourceLinkId);
        const act = this.activities.get(resourceLinkId);
        if (!act || act.courseId !== courseId || act.clientId !== a.tool.clientId) return void res.status(400).type('text/plain').send('Invalid resourceLinkId');
      }
      const li = this.createLineItem({
        courseId,
        clientId: a.tool.clientId,
        typeId,
        label: body.label,
        scoreMaximum: Number(body.scoreMaximum),
        resourceId: typeof body.resourceId === 'string' ? body.resourceId : undefined,
        tag: typeof body.tag === 'string' ? body.tag : undefined,
        resourceLinkId,
        startDateTime: typeof body.startDateTime === 'string' ? body.startDateTime : undefined,
        endDateTime: typeof body.endDateTime === 'string' ? body.endDateTime : undefined,
        activityItem: false,
      });
      res.status(201).type(MEDIA.lineItem).send(JSON.stringify(this.lineItemJson(li)));
      return;
    }
    res.status(405).type('text/plain').send('Method not allowed');
  }

  private findItem(res: Response, courseId: string, itemId: number, tool: SimTool): SimLineItem | undefined {
    const li = this.lineItems.get(itemId);
    if (!li || li.courseId !== courseId) {
      res.status(404).type('text/plain').send(`Not Found: Grade item ${itemId} doesn't exist.`);
      return undefined;
    }
    if (li.clientId !== tool.clientId) {
      res.status(403).type('text/plain').send('Line item does not exist.');
      return undefined;
    }
    return li;
  }

  private async handleLineItem(req: Request, res: Response, courseId: string, itemId: number, typeId: string): Promise<void> {
    const scopes = req.method === 'GET' ? [SCOPES.lineItem, SCOPES.lineItemReadOnly] : [SCOPES.lineItem];
    const a = this.bearer(req, typeId, scopes);
    if ('status' in a) return void res.status(a.status).type('text/plain').send(a.reason);
    const li = this.findItem(res, courseId, itemId, a.tool);
    if (!li) return;
    if (req.method === 'GET') return void res.status(200).type(MEDIA.lineItem).send(JSON.stringify(this.lineItemJson(li)));
    if (req.method === 'PUT') {
      if (this.contentType(req) !== MEDIA.lineItem) return void res.status(400).type('text/plain').send(`Content-Type must be ${MEDIA.lineItem}`);
      const body = this.parseJsonBody(req);
      if (!body || (body.scoreMaximum !== undefined && (!isNumeric(body.scoreMaximum) || Number(body.scoreMaximum) <= 0))) {
        return void res.status(400).type('text/plain').send('Invalid line item');
      }
      if (typeof body.label === 'string' && body.label) li.label = body.label;
      if (body.scoreMaximum !== undefined) li.scoreMaximum = Number(body.scoreMaximum);
      if (typeof body.resourceId === 'string') li.resourceId = body.resourceId;
      if (typeof body.tag === 'string') li.tag = body.tag;
      if (typeof body.startDateTime === 'string') li.startDateTime = body.startDateTime;
      if (typeof body.endDateTime === 'string') li.endDateTime = body.endDateTime;
      return void res.status(200).type(MEDIA.lineItem).send(JSON.stringify(this.lineItemJson(li)));
    }
    if (req.method === 'DELETE') {
      if (li.activityItem) return void res.status(403).type('text/plain').send("The activity's own line item cannot be deleted");
      this.lineItems.delete(li.id);
      for (const k of [...this.grades.keys()]) if (k.startsWith(`${li.id}:`)) this.grades.delete(k);
      return void res.status(204).end();
    }
    res.status(405).type('text/plain').send('Method not allowed');
  }

  private async handleScores(req: Request, res: Response, courseId: string, itemId: number, typeId: string): Promise<void> {
    if (req.method !== 'POST') return void res.status(405).type('text/plain').send('GET requests are not allowed.');
    const a = this.bearer(req, typeId, [SCOPES.score]);
    if ('status' in a) return void res.status(a.status).type('text/plain').send(a.reason);
    if (this.contentType(req) !== MEDIA.score) return void res.status(400).type('text/plain').send(`Content-Type must be ${MEDIA.score}`);
    const li = this.findItem(res, courseId, itemId, a.tool);
    if (!li) return;
    const s = this.parseJsonBody(req);
    const refuse = (status: 400 | 409, reason: string) => {
      this.refusedScores.push({ at: new Date(), lineItemId: li.id, lineItemUrl: li.url, courseId, clientId: a.tool.clientId, userId: String(s?.userId ?? ''), body: s ?? {}, status, reason });
      res.status(status).type('text/plain').send(reason);
    };
    const bad = (why: string) => refuse(400, `Incorrect score received: ${why}`);
    if (!s) return bad('body is not a JSON object');
    const userId = s.userId === undefined || s.userId === null ? '' : String(s.userId);
    if (!userId) return bad('userId is required');
    if (!isIsoDateTime(s.timestamp)) return bad('timestamp must be an ISO 8601 date-time');
    if (typeof s.activityProgress !== 'string' || !ACTIVITY_PROGRESS.includes(s.activityProgress)) return bad('invalid activityProgress');
    if (typeof s.gradingProgress !== 'string' || !GRADING_PROGRESS.includes(s.gradingProgress)) return bad('invalid gradingProgress');
    if (s.scoreGiven !== undefined && s.scoreGiven !== null) {
      if (!isNumeric(s.scoreGiven) || Number(s.scoreGiven) < 0) return bad('scoreGiven must be a number >= 0');
      if (s.scoreMaximum === undefined || s.scoreMaximum === null) return bad('scoreMaximum is required with scoreGiven');
    }
    if (s.scoreMaximum !== undefined && s.scoreMaximum !== null && (!isNumeric(s.scoreMaximum) || Number(s.scoreMaximum) <= 0)) {
      return bad('scoreMaximum must be a number > 0');
    }
    if (this.roleOf(courseId, userId) !== 'Learner') return bad(`user ${userId} is not gradable in course ${courseId}`);
    const key = `${li.id}:${userId}`;
    const prev = this.grades.get(key);
    const ts = Math.floor(Date.parse(s.timestamp) / 1000);
    if (prev && prev.timemodified !== null && prev.timemodified >= ts) return refuse(409, `Refusing score with an earlier timestamp for item ${li.id} and user ${userId}`);
    // scores.php: scoreGiven is dropped unless FullyGraded, and the cell is emptied.
    const given = s.gradingProgress === 'FullyGraded' && s.scoreGiven !== undefined && s.scoreGiven !== null ? Number(s.scoreGiven) : null;
    this.grades.set(key, {
      userId,
      lineItemId: li.id,
      scoreGiven: given,
      scoreMaximum: s.scoreMaximum !== undefined && s.scoreMaximum !== null ? Number(s.scoreMaximum) : 1,
      comment: typeof s.comment === 'string' ? s.comment : undefined,
      activityProgress: s.activityProgress,
      gradingProgress: s.gradingProgress,
      timemodified: this.gradedTime(li, prev, given, ts),
      timestamp: s.timestamp,
    });
    this.scores.push({ at: new Date(), lineItemId: li.id, lineItemUrl: li.url, courseId, clientId: a.tool.clientId, userId, body: s });
    res.status(200).end();
  }

  /**
   * The grade's timemodified after a score, as Moodle's gradebook sets it (seconds, or null: "not
   * graded", which the next score's timestamp is not checked against). The activity's own item
   * (grade_item::update_raw_grade) takes the score's timestamp, or null without a grade. A line item
   * the tool created (update_final_grade) takes the timestamp, or the server's time when the grade is
   * emptied, and keeps its time when the grade does not change.
   */
  private gradedTime(li: SimLineItem, prev: StoredGrade | undefined, given: number | null, ts: number): number | null {
    if (li.activityItem) return given === null ? null : ts;
    if (prev && prev.scoreGiven === given) return prev.timemodified;
    return given === null ? this.nowSec() : ts;
  }

  private async handleResults(req: Request, res: Response, courseId: string, itemId: number, typeId: string): Promise<void> {
    if (req.method !== 'GET') return void res.status(405).type('text/plain').send('Method not allowed');
    const a = this.bearer(req, typeId, [SCOPES.resultReadOnly]);
    if ('status' in a) return void res.status(a.status).type('text/plain').send(a.reason);
    const li = this.findItem(res, courseId, itemId, a.tool);
    if (!li) return;
    // results.php lists only grades with a timemodified (graded once at least).
    let grades = [...this.grades.values()].filter((g) => g.lineItemId === li.id && g.timemodified !== null);
    const userId = str(req.query.user_id);
    if (userId) grades = grades.filter((g) => g.userId === userId);
    const limit = Number(str(req.query.limit)) || undefined;
    const from = Number(str(req.query.from)) || 0;
    const link = this.pageLinks(req, grades.length, from, limit);
    if (link) res.setHeader('Link', link);
    const base = li.url.replace(/\?.*$/, '');
    // gradebookservices::result_for_json: an emptied grade is its id and user only (no resultScore).
    const out = (limit ? grades.slice(from, from + limit) : grades.slice(from)).map((g) => {
      const r: Record<string, unknown> = { id: `${base}/results?type_id=${li.typeId}&user_id=${g.userId}`, userId: g.userId };
      if (g.scoreGiven === null) return r;
      r.resultScore = (g.scoreGiven / g.scoreMaximum) * li.scoreMaximum;
      r.resultMaximum = li.scoreMaximum;
      if (g.comment !== undefined) r.comment = g.comment;
      r.scoreOf = li.url;
      r.timestamp = new Date(g.timemodified! * 1000).toISOString().replace(/\.\d{3}Z$/, '+00:00');
      return r;
    });
    res.status(200).type(MEDIA.resultContainer).send(JSON.stringify(out));
  }

  private async handleMemberships(req: Request, res: Response, courseId: string, typeId: string): Promise<void> {
    if (req.method !== 'GET') return void res.status(405).type('text/plain').send('Method not allowed');
    const accept = req.get('accept') ?? '';
    if (accept && !accept.includes(MEDIA.membershipContainer) && !accept.includes('*/*') && !accept.includes('application/json')) {
      return void res.status(400).type('text/plain').send(`Accept must be ${MEDIA.membershipContainer}`);
    }
    const auth = req.get('authorization') ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    const rec = m ? this.accessTokens.get(m[1]!) : undefined;
    if (!rec || rec.expiresAt <= this.nowSec()) return void res.status(401).type('text/plain').send('Invalid or missing access token');
    const tool = this.tools.get(rec.clientId);
    if (!tool || !tool.deploymentIds.includes(typeId)) return void res.status(401).type('text/plain').send('Access token is not valid for this binding');
    if (!rec.scopes.includes(SCOPES.nrps)) return void res.status(401).type('text/plain').send('Access token lacks the memberships scope');
    const course = this.courses.get(courseId);
    if (!course) return void res.status(404).type('text/plain').send(`Not Found: Course ${courseId} doesn't exist.`);
    let members = [...(this.enrolments.get(courseId) ?? new Map<string, CourseRole>()).entries()];
    const role = str(req.query.role);
    if (role) {
      const short = role.replace(/^.*#/, '');
      members = members.filter(([, r]) => r === short);
    }
    const limit = Number(str(req.query.limit)) || undefined;
    const from = Number(str(req.query.from)) || 0;
    const slice = limit ? members.slice(from, from + limit) : members.slice(from);
    const url = this.membershipsUrl(courseId, typeId);
    const link = this.pageLinks(req, members.length, from, limit);
    if (link) res.setHeader('Link', link);
    const body = {
      id: url,
      context: { id: course.id, label: course.label, title: course.title },
      members: slice.map(([uid, r]) => {
        const u = this.users.get(uid)!;
        const o: Record<string, unknown> = { status: 'Active', roles: [r], user_id: uid, lis_person_sourcedid: '' };
        if (tool.shareName) Object.assign(o, { name: u.name, given_name: u.given, family_name: u.family });
        if (tool.shareEmail) o.email = u.email;
        if (tool.shareName) o.ext_user_username = u.username;
        return o;
      }),
    };
    res.status(200).type(MEDIA.membershipContainer).send(JSON.stringify(body));
  }
}

/** Scopes Moodle grants a tool with this service configuration (lti_get_permitted_service_scopes). */
function grantedScopes(gradeSync: 0 | 1 | 2, memberships: boolean): string[] {
  const s: string[] = [];
  if (gradeSync > 0) s.push(SCOPES.score, SCOPES.resultReadOnly, SCOPES.lineItemReadOnly);
  if (gradeSync === 2) s.push(SCOPES.lineItem);
  if (memberships) s.push(SCOPES.nrps);
  return s;
}
