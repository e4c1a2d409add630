import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** Repository root: config/ and data/ are found relative to it, whatever the working directory. */
export const ROOT = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');

const LogLevel = z.enum(['debug', 'info', 'warn', 'error']);
const Count = z.coerce.number().int().min(1);

/** Everything the process is told at start. Validated once; inside the app the types are exact. */
export const ConfigSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  host: z.string().min(1),
  publicUrl: z.string().url().refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://'),
  databaseUrl: z.string().min(1),
  secretFile: z.string().min(1),
  /** An explicit secret (at least 32 characters) instead of the generated file; for several processes. */
  secret: z.string().min(32, 'must be at least 32 characters').optional(),
  /** The key IT puts in the registration URL; generated on first start when not given. */
  registrationKey: z.string().min(16, 'must be at least 16 characters').optional(),
  trustProxy: z.string(),
  logLevel: LogLevel,
  launch: z.object({
    clockSkewSeconds: z.coerce.number().int().min(0).max(600),
    maxTokenAgeSeconds: z.coerce.number().int().min(10).max(3600),
    loginTtlSeconds: z.coerce.number().int().min(30).max(3600),
    sessionTtlHours: z.coerce.number().min(0.1).max(72),
  }),
  toolName: z.string().min(1),
  /** Keep names and emails the LMS shares (roster) in the database; otherwise they live in memory only. */
  storePersonalNames: z.boolean().default(false),
  /** Days after which attempts are folded into per-item totals and deleted (src/privacy/); 0 keeps them. */
  retentionDays: z.coerce.number().int().min(0).max(36500).default(0),
  /** Password of the /admin pages for school IT; unset disables them. */
  adminPassword: z.string().min(12, 'must be at least 12 characters').optional(),
  /** Bearer token a scraper must send to /metrics; unset, /metrics answers only direct loopback requests. */
  metricsToken: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Grade delivery to the LMS (AGS): how often the sender looks for work and how it backs off. */
  grades: z.object({
    pollMs: z.number().int().min(5).default(1000),
    retryBaseMs: z.number().int().min(1).default(2000),
    retryMaxMs: z.number().int().min(1).default(15 * 60_000),
    maxTries: z.number().int().min(1).default(20),
    requestTimeoutMs: z.number().int().min(100).default(15_000),
  }).default({ pollMs: 1000, retryBaseMs: 2000, retryMaxMs: 15 * 60_000, maxTries: 20, requestTimeoutMs: 15_000 }),
  /**
   * The course roster (Names and Role Provisioning), cached in the database for every process: after
   * ttlSeconds a teacher's page asks for a refresh, a job of the queue, retried from retryDelaySeconds
   * (doubling) while the LMS fails. The first page of a course waits up to firstLoadWaitMs for it.
   */
  roster: z.object({
    ttlSeconds: z.number().int().min(1).default(300),
    retryDelaySeconds: z.number().int().min(1).default(30),
    firstLoadWaitMs: z.number().int().min(0).default(3000),
  }).default({ ttlSeconds: 300, retryDelaySeconds: 30, firstLoadWaitMs: 3000 }),
  /** The school's time zone (IANA name): every time shown to teachers is in it. */
  schoolTimeZone: z.string().refine(isTimeZone, 'must be an IANA time zone such as Asia/Jakarta (WIB), Asia/Makassar (WITA) or Asia/Jayapura (WIT)').default('Asia/Jakarta'),
  /** Worker processes `npm start` forks on this machine (node:cluster); 1 serves in the process itself. */
  webConcurrency: z.coerce.number().int().min(1).max(64).default(1),
  /** Whether this process runs background jobs (training, grade delivery, purges); off keeps web processes web-only. */
  backgroundWork: z.boolean().default(true),
  /** The job queue (PostgreSQL: pg-boss; SQLite: in this process). */
  jobs: z.object({
    /** A training job not finished this long after it started is taken to be lost (its process died) and retried. */
    trainingLeaseSeconds: z.coerce.number().int().min(5).default(3600),
    /** How often the queue looks for expired leases (pg-boss maintenance). */
    maintenanceSeconds: z.coerce.number().int().min(1).default(30),
  }).default({ trainingLeaseSeconds: 3600, maintenanceSeconds: 30 }),
  /** The tool's signing keys: rotated every rotationDays (0 = only by command); the old public key stays published overlapHours. */
  keys: z.object({
    rotationDays: z.coerce.number().min(0).max(3650).default(90),
    overlapHours: z.coerce.number().min(0.001).max(24 * 90).default(48),
  }).default({ rotationDays: 90, overlapHours: 48 }),
  /**
   * Requests per client IP in each window, and verified launches per platform, counted in the database so
   * that every process shares them. Generous: a whole class behind one school NAT address launches at once.
   * A platform's budget (launch.perIssuer) is spent only by launches whose token verified; login.pendingPerIp
   * caps the unfinished logins one address may keep stored.
   */
  rateLimits: z.object({
    windowSeconds: z.coerce.number().int().min(1).max(3600).default(60),
    login: z.object({ perIp: Count, pendingPerIp: Count.default(600) }).default({ perIp: 600, pendingPerIp: 600 }),
    launch: z.object({ perIp: Count, perIssuer: Count }).default({ perIp: 600, perIssuer: 6000 }),
    registration: z.object({ perIp: Count }).default({ perIp: 30 }),
  }).default({
    windowSeconds: 60, login: { perIp: 600, pendingPerIp: 600 }, launch: { perIp: 600, perIssuer: 6000 }, registration: { perIp: 30 },
  }),
});
export type Config = z.infer<typeof ConfigSchema>;

/** Environment variables and the setting each overrides. */
const ENV: Record<string, (c: Record<string, any>, v: string) => void> = {
  PORT: (c, v) => (c.port = v),
  HOST: (c, v) => (c.host = v),
  PUBLIC_URL: (c, v) => (c.publicUrl = v),
  DATABASE_URL: (c, v) => (c.databaseUrl = v),
  JEJAK_SECRET: (c, v) => (c.secret = v),
  JEJAK_SECRET_FILE: (c, v) => (c.secretFile = v),
  REGISTRATION_KEY: (c, v) => (c.registrationKey = v),
  TRUST_PROXY: (c, v) => (c.trustProxy = v),
  LOG_LEVEL: (c, v) => (c.logLevel = v),
  LAUNCH_CLOCK_SKEW_SECONDS: (c, v) => (c.launch.clockSkewSeconds = v),
  LAUNCH_MAX_TOKEN_AGE_SECONDS: (c, v) => (c.launch.maxTokenAgeSeconds = v),
  TOOL_NAME: (c, v) => (c.toolName = v),
  RETENTION_DAYS: (c, v) => (c.retentionDays = v),
  ADMIN_PASSWORD: (c, v) => (c.adminPassword = v),
  METRICS_TOKEN: (c, v) => (c.metricsToken = v),
  SCHOOL_TIME_ZONE: (c, v) => (c.schoolTimeZone = v),
  WEB_CONCURRENCY: (c, v) => (c.webConcurrency = v),
  JEJAK_BACKGROUND_WORK: (c, v) => (c.backgroundWork = v === 'on' ? true : v === 'off' ? false : v),
  JOBS_TRAINING_LEASE_SECONDS: (c, v) => (c.jobs = { ...c.jobs, trainingLeaseSeconds: v }),
  JOBS_MAINTENANCE_SECONDS: (c, v) => (c.jobs = { ...c.jobs, maintenanceSeconds: v }),
  KEY_ROTATION_DAYS: (c, v) => (c.keys = { ...c.keys, rotationDays: v }),
  KEY_OVERLAP_HOURS: (c, v) => (c.keys = { ...c.keys, overlapHours: v }),
};
/** Setting path → the environment variable that sets it, for error messages. */
const ENV_OF: Record<string, string> = {
  port: 'PORT', host: 'HOST', publicUrl: 'PUBLIC_URL', databaseUrl: 'DATABASE_URL', secret: 'JEJAK_SECRET',
  secretFile: 'JEJAK_SECRET_FILE', registrationKey: 'REGISTRATION_KEY', trustProxy: 'TRUST_PROXY', logLevel: 'LOG_LEVEL',
  'launch.clockSkewSeconds': 'LAUNCH_CLOCK_SKEW_SECONDS', 'launch.maxTokenAgeSeconds': 'LAUNCH_MAX_TOKEN_AGE_SECONDS',
  toolName: 'TOOL_NAME', retentionDays: 'RETENTION_DAYS', adminPassword: 'ADMIN_PASSWORD', metricsToken: 'METRICS_TOKEN', schoolTimeZone: 'SCHOOL_TIME_ZONE', webConcurrency: 'WEB_CONCURRENCY', backgroundWork: 'JEJAK_BACKGROUND_WORK',
  'jobs.trainingLeaseSeconds': 'JOBS_TRAINING_LEASE_SECONDS', 'jobs.maintenanceSeconds': 'JOBS_MAINTENANCE_SECONDS',
  'keys.rotationDays': 'KEY_ROTATION_DAYS', 'keys.overlapHours': 'KEY_OVERLAP_HOURS',
};

/** Whether `zone` names a time zone this Node's ICU knows (it refuses unknown names). */
function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** A configuration problem, reported as one line naming the setting and what is expected. */
export class ConfigError extends Error {}

/**
 * Reads config/default.json, then config/local.json if present, then the environment.
 * `overrides` (tests) win over everything.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const raw: Record<string, any> = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/default.json'), 'utf8'));
  const localFile = path.join(ROOT, 'config/local.json');
  if (fs.existsSync(localFile)) {
    let local: unknown;
    try {
      local = JSON.parse(fs.readFileSync(localFile, 'utf8'));
    } catch (e) {
      throw new ConfigError(`config/local.json: not valid JSON (${(e as Error).message})`);
    }
    Object.assign(raw, local, { launch: { ...raw.launch, ...((local as any)?.launch ?? {}) } });
  }
  for (const [name, set] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') set(raw, v);
  }
  Object.assign(raw, overrides);
  if (!raw.publicUrl) raw.publicUrl = `http://localhost:${raw.port}`;
  raw.publicUrl = String(raw.publicUrl).replace(/\/+$/, '');
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue.path.join('.');
    const envName = ENV_OF[key] ? ` (${ENV_OF[key]})` : '';
    throw new ConfigError(`Configuration error: ${key}${envName} ${describe(issue, raw, key)}`);
  }
  return parsed.data;
}

/** Settings whose value is never printed: an error message may reach a shared terminal, a log or a ticket. */
const SECRET_SETTINGS = new Set(['adminPassword', 'secret', 'registrationKey', 'metricsToken']);

function describe(issue: z.core.$ZodIssue, raw: Record<string, any>, key: string): string {
  const value = key.split('.').reduce<any>((o, k) => (o == null ? o : o[k]), raw);
  const shown = value === undefined ? 'is missing' : SECRET_SETTINGS.has(key) ? 'is set (value not shown)' : `is ${JSON.stringify(value)}`;
  return `${shown}: ${issue.message}`;
}

