import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../config';
import type { Db } from '../db/schema';
import type { Platforms } from '../lti/platforms';
import type { TrainingJobs } from '../kt/jobs/runner';
import { pickLocale, translate, type Locale } from '../web/i18n';
import type { Renderer } from '../web/render';
import { CrossSiteWrite, csrfToken, sameOriginWrites } from '../web/security';
import { toCsv } from '../teacher/csv';
import { exportStudentData } from './commands/exportStudentData';
import { eraseStudent, type ErasureResult } from './commands/eraseStudent';
import { eraseCourse } from './commands/eraseCourse';
import { eraseDeployment } from './commands/eraseDeployment';
import { setCourseGroups } from './commands/setCourseGroups';
import { LEARNER_TABLES, learnerDataCounts, studentDataCsv } from './data';
import { FAIRNESS_RULE, fairnessReport, loadObservations } from './fairness';
import { auditLog } from './audit-log';
import { deviceCookie, deviceIdOf, passwordTag, validAdminSession } from './admin-sign-in';
import { signInAdmin } from './commands/signInAdmin';
import { signOutAdmin } from './commands/signOutAdmin';
import { randomToken, sameSecret } from '../crypto';
import { activateModel } from '../kt/commands/activateModel';
import { rollbackModel } from '../kt/commands/rollbackModel';
import { activeModel, ModelCommandError, modelMetricsSchema } from '../kt/models';

export interface AdminDeps {
  db: Db;
  render: Renderer;
  platforms: Platforms;
  training: Pick<TrainingJobs, 'enqueue'>;
  config: Pick<Config, 'adminPassword' | 'publicUrl' | 'retentionDays' | 'storePersonalNames'>;
  /** The install secret: signs the admin cookie. */
  secret: string;
}

const COOKIE = 'jejak_admin';
/** Proof that this browser signed in before: its failed attempts count apart from strangers' (src/privacy/admin-sign-in.ts). */
const DEVICE_COOKIE = 'jejak_admin_device';
const SESSION_MS = 8 * 3600_000;
const DEVICE_MS = 365 * 24 * 3600_000;
const ACTOR = 'admin';

const wrap = (fn: (req: Request, res: Response, next: NextFunction) => Promise<void>): RequestHandler => (req, res, next) => {
  fn(req, res, next).catch(next);
};

const TenantId = z.coerce.number().int().positive();
const Sub = z.string().trim().min(1, 'user id is empty').max(255);
const Course = z.string().trim().max(255).transform((v) => v || null);
const ExportForm = z.object({ tenant: TenantId, user: Sub, course: Course.optional(), format: z.enum(['json', 'csv']) });
const EraseForm = z.object({
  tenant: TenantId,
  scope: z.enum(['student', 'course', 'deployment']),
  user: z.string().trim().max(255).optional(),
  course: Course.optional(),
  confirm: z.literal('yes').optional(),
}).refine((f) => f.scope !== 'student' || !!f.user, { message: 'a student erasure needs the user id', path: ['user'] })
  .refine((f) => f.scope !== 'course' || !!f.course, { message: 'a course erasure needs the course id', path: ['course'] });
const ModelForm = z.object({
  model: z.coerce.number({ message: 'model id is not a number' }).int().positive(),
  action: z.enum(['activate', 'rollback']),
  confirm: z.literal('yes').optional(),
});
/** A model's AUC on its held-out attempts, and the then-active model's on the same ones (src/kt/holdout.ts). */
function heldOutAuc(metricsJson: string): string {
  const h = modelMetricsSchema.shape.holdout.safeParse((JSON.parse(metricsJson) as { holdout?: unknown }).holdout);
  if (!h.success || !h.data) return '';
  const fmt = (x: number | null) => (x === null ? '–' : x.toFixed(3));
  return h.data.active ? `${fmt(h.data.auc)} (v${h.data.active.version}: ${fmt(h.data.active.auc)})` : fmt(h.data.auc);
}
const GroupsForm = z.object({ tenant: TenantId, course: z.string().trim().min(1, 'course id is empty').max(255), lines: z.string().max(500_000) });

/** "LTI user id,group" lines (blank lines skipped) into rows; a malformed line is refused with its number. */
export function parseGroupLines(text: string): { userSub: string; group: string }[] {
  return text.split(/\r?\n/).flatMap((line, i) => {
    if (!line.trim()) return [];
    const at = line.indexOf(',');
    const userSub = line.slice(0, at).trim();
    const group = line.slice(at + 1).trim();
    if (at < 0 || !userSub || !group) throw new AdminInputError(`line ${i + 1} is not "user id,group"`);
    return [{ userSub, group }];
  });
}

class AdminInputError extends Error {}

/**
 * /admin for school IT: a password from configuration (no LTI), a signed HttpOnly SameSite=Strict
 * cookie, and pages for platforms, models, jobs, the grade outbox, privacy settings, the audit log,
 * the fairness report, and export and erasure with a confirmation step. Server-rendered, no scripts.
 */
export function adminRoutes(d: AdminDeps): Router {
  const { db } = d;
  const r = Router();
  const form = express.urlencoded({ extended: false, limit: '600kb' });
  const secure = new URL(d.config.publicUrl).protocol === 'https:';
  const tag = passwordTag(d.secret, d.config.adminPassword ?? '');
  const cookieOptions = (maxAge: number) => ({ httpOnly: true, sameSite: 'strict' as const, secure, path: '/admin', maxAge });
  const localeOf = (req: Request): Locale => pickLocale(typeof req.query.lang === 'string' ? req.query.lang : req.get('accept-language'));
  const page = (req: Request, res: Response, view: string, data: Record<string, unknown>, status = 200) => {
    const locale = localeOf(req);
    const q = `?lang=${locale}`;
    d.render(res, view, { locale, q, title: translate(locale, 'admin.title'), ...data }, status);
  };

  r.use('/admin', sameOriginWrites(d.config.publicUrl), form);
  r.use('/admin', wrap(async (req, res, next) => {
    if (!d.config.adminPassword) return page(req, res, 'privacy/admin/login', { disabled: true }, 503);
    if (req.path === '/login') return next();
    const cookie: unknown = req.cookies?.[COOKIE];
    // A server-side session: signed out, expired or signed in with another password, the cookie is worthless.
    if (!(await validAdminSession(db, cookie, tag, Date.now()))) return page(req, res, 'privacy/admin/login', {}, 401);
    // The CSRF token is bound to this sign-in (src/web/security.ts derives it); every admin form posts it.
    res.locals.csrfToken = csrfToken(d.secret, `admin:${cookie as string}`);
    if (req.method === 'POST') {
      const given = req.body?._csrf;
      if (typeof given !== 'string' || !sameSecret(given, res.locals.csrfToken)) {
        return next(new CrossSiteWrite('admin POST without a valid CSRF token'));
      }
    }
    next();
  }));

  r.post('/admin/login', wrap(async (req, res) => {
    const given = typeof req.body?.password === 'string' ? req.body.password : '';
    const deviceId = deviceIdOf(d.secret, req.cookies?.[DEVICE_COOKIE]);
    const result = await signInAdmin({
      db, secret: d.secret, password: d.config.adminPassword!, given, address: req.ip ?? 'unknown', deviceId, sessionMs: SESSION_MS,
    });
    if (result.kind === 'wait') {
      res.set('retry-after', String(result.retryAfterSeconds));
      return page(req, res, 'privacy/admin/login', { wait: translate(localeOf(req), 'admin.sign_in_wait', { seconds: result.retryAfterSeconds }) }, 429);
    }
    if (result.kind === 'wrong') return page(req, res, 'privacy/admin/login', { wrong: true }, 401);
    res.cookie(COOKIE, result.token, cookieOptions(SESSION_MS));
    res.cookie(DEVICE_COOKIE, deviceCookie(d.secret, deviceId ?? randomToken(16)), cookieOptions(DEVICE_MS));
    res.redirect(303, `/admin?lang=${localeOf(req)}`);
  }));
  r.post('/admin/logout', wrap(async (req, res) => {
    await signOutAdmin({ db, token: String(req.cookies?.[COOKIE]), address: req.ip ?? 'unknown' });
    res.clearCookie(COOKIE, { path: '/admin' });
    res.redirect(303, `/admin?lang=${localeOf(req)}`);
  }));

  r.get('/admin', wrap(async (req, res) => {
    const locale = localeOf(req);
    const t = (k: string) => translate(locale, `admin.${k}`);
    const deployments = await db.selectFrom('deployment').select(['id', 'issuer', 'client_id', 'deployment_id']).orderBy('id').execute();
    const platforms = (await d.platforms.list()).map((p) => ({
      ...p, deployments: deployments.filter((x) => x.issuer === p.issuer && x.client_id === p.clientId).map((x) => `${x.id}: ${x.deployment_id}`).join(', '),
    }));
    const models = (await db.selectFrom('kt_model').select(['id', 'tenant_id', 'bank_id', 'version', 'status', 'metrics', 'retrain_needed'])
      .orderBy('id', 'desc').limit(100).execute()).map((m) => ({
      ...m, auc: heldOutAuc(m.metrics), retrain: m.retrain_needed ? t('retrain_needed') : '', active: m.status === 'active',
    }));
    const jobs = (await db.selectFrom('kt_training_job').select(['id', 'tenant_id', 'bank_id', 'status', 'error', 'created_at']).orderBy('id', 'desc').limit(50).execute())
      .map((j) => ({ ...j, created: new Date(Number(j.created_at)).toISOString().slice(0, 16).replace('T', ' ') }));
    const outbox = await db.selectFrom('score_outbox').select(['status', (eb) => eb.fn.countAll().as('n')]).groupBy('status').orderBy('status').execute();
    page(req, res, 'privacy/admin/home', {
      platforms, models, jobs, outbox: outbox.map((o) => ({ status: o.status, n: Number(o.n) })),
      storeNames: t(d.config.storePersonalNames ? 'yes' : 'no'), retention: d.config.retentionDays || t('keep'),
    });
  }));

  // Activating or rolling back a bank's model: a first step shows what will change, the second (confirm=yes) does it.
  r.post('/admin/models', wrap(async (req, res) => {
    const locale = localeOf(req);
    const f = ModelForm.safeParse(req.body);
    const model = f.success ? await db.selectFrom('kt_model').select(['id', 'tenant_id', 'bank_id', 'version', 'status', 'metrics']).where('id', '=', f.data.model).executeTakeFirst() : undefined;
    const problem = !f.success ? f.error.issues[0].message
      : !model || model.tenant_id === null || model.bank_id === null ? translate(locale, 'admin.model_unknown', { model: f.data.model })
        : (f.data.action === 'rollback') !== (model.status === 'active') ? translate(locale, f.data.action === 'rollback' ? 'admin.model_not_active' : 'admin.model_already_active', { model: model.id })
          : null;
    if (problem !== null || !f.success || !model) return page(req, res, 'privacy/admin/model-confirm', { problem: translate(locale, 'admin.bad_input', { problem }) }, 400);
    const tenantId = model.tenant_id!;
    const bankId = model.bank_id!;
    if (f.data.confirm !== 'yes') {
      const active = await activeModel(db, tenantId, bankId);
      return page(req, res, 'privacy/admin/model-confirm', {
        model: model.id, action: f.data.action,
        text: translate(locale, `admin.model_confirm_${f.data.action}`, { version: model.version, bank: bankId, tenant: tenantId, active: active ? `v${active.version}` : translate(locale, 'admin.model_cold_start') }),
        auc: heldOutAuc(model.metrics),
      });
    }
    try {
      if (f.data.action === 'activate') await activateModel({ db, tenantId, bankId, modelId: model.id, actor: ACTOR });
      else await rollbackModel({ db, tenantId, bankId, actor: ACTOR });
    } catch (e) {
      if (!(e instanceof ModelCommandError)) throw e;
      return page(req, res, 'privacy/admin/model-confirm', { problem: translate(locale, 'admin.bad_input', { problem: e.message }) }, 400);
    }
    res.redirect(303, `/admin?lang=${locale}#h-models`);
  }));

  r.get('/admin/audit', wrap(async (req, res) => {
    const before = z.coerce.number().int().positive().optional().safeParse(req.query.before);
    const rows = await auditLog(db, { before: before.success ? before.data : undefined, limit: 100 });
    const last = rows.length === 100 ? rows[rows.length - 1].id : null;
    page(req, res, 'privacy/admin/audit', { rows, older: last === null ? null : `/admin/audit?lang=${localeOf(req)}&before=${last}` });
  }));
  r.get('/admin/audit.csv', wrap(async (_req, res) => {
    const rows = await auditLog(db, {});
    const csv = toCsv([['id', 'time_utc', 'tenant', 'course', 'actor', 'action', 'subject', 'details'],
      ...rows.map((e) => [e.id, e.when, e.tenant_id, e.context_id, e.actor, e.action, e.subject, e.details])]);
    res.set('content-disposition', 'attachment; filename="jejak-audit.csv"').type('text/csv; charset=utf-8').send(csv);
  }));

  r.get('/admin/fairness', wrap(async (req, res) => {
    const tenants = await db.selectFrom('deployment').select('id').orderBy('id').execute();
    const chosen = TenantId.safeParse(req.query.tenant);
    const tenantId = chosen.success ? chosen.data : tenants[0]?.id;
    const fmt = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(3));
    const locale = localeOf(req);
    const courses = tenantId === undefined ? [] : fairnessReport(await loadObservations(db, tenantId)).map((c) => ({
      contextId: c.contextId, answers: c.answers, auc: fmt(c.auc), ece: fmt(c.ece),
      groups: c.groups.map((g) => ({ group: g.group, answers: g.answers, auc: fmt(g.auc), ece: fmt(g.ece), flagged: g.flags.length > 0,
        flags: g.flags.map((f) => translate(locale, `admin.flag_${f}`)).join('; ') })),
    }));
    page(req, res, 'privacy/admin/fairness', {
      tenants: tenants.map((x) => ({ id: x.id, selected: x.id === tenantId })), tenantId, courses,
      rule: translate(locale, 'admin.fairness_rule', { min: FAIRNESS_RULE.minAnswers, auc: FAIRNESS_RULE.aucGap, ece: FAIRNESS_RULE.eceGap }),
      saved: typeof req.query.saved === 'string' ? translate(locale, 'admin.groups_saved', { n: Number(req.query.saved) || 0 }) : null,
    });
  }));
  r.post('/admin/groups', wrap(async (req, res) => {
    const f = GroupsForm.safeParse(req.body);
    if (!f.success) return badInput(req, res, f.error.issues[0].message);
    if (!(await tenantExists(f.data.tenant))) return badInput(req, res, translate(localeOf(req), 'admin.unknown_tenant', { tenant: f.data.tenant }));
    let rows;
    try {
      rows = parseGroupLines(f.data.lines);
    } catch (e) {
      if (e instanceof AdminInputError) return badInput(req, res, e.message);
      throw e;
    }
    const n = await setCourseGroups({ db, tenantId: f.data.tenant, contextId: f.data.course, rows, actor: ACTOR });
    res.redirect(303, `/admin/fairness?lang=${localeOf(req)}&tenant=${f.data.tenant}&saved=${n}`);
  }));

  r.get('/admin/data', (req, res) => page(req, res, 'privacy/admin/data', {}));
  r.post('/admin/export', wrap(async (req, res) => {
    const f = ExportForm.safeParse(req.body);
    if (!f.success) return badInput(req, res, f.error.issues[0].message);
    const { tenant, user, course, format } = f.data;
    if (!(await tenantExists(tenant))) return badInput(req, res, translate(localeOf(req), 'admin.unknown_tenant', { tenant }));
    const data = await exportStudentData({ db, tenantId: tenant, userSub: user, contextId: course, actor: ACTOR, format });
    res.set('content-disposition', `attachment; filename="jejak-data-${tenant}.${format}"`);
    if (format === 'json') res.type('application/json').send(JSON.stringify(data, null, 2));
    else res.type('text/csv; charset=utf-8').send(studentDataCsv(data));
  }));
  r.post('/admin/erase', wrap(async (req, res) => {
    const f = EraseForm.safeParse(req.body);
    if (!f.success) return badInput(req, res, f.error.issues[0].message);
    const { tenant, scope, confirm } = f.data;
    if (!(await tenantExists(tenant))) return badInput(req, res, translate(localeOf(req), 'admin.unknown_tenant', { tenant }));
    const user = scope === 'student' ? f.data.user! : null;
    const course = scope === 'deployment' ? null : f.data.course ?? null;
    if (confirm !== 'yes') {
      // The first step only counts; the second (confirm=yes, sent by the confirmation page's form) erases.
      const counts = await learnerDataCounts(db, { tenantId: tenant, contextId: course, userSub: user });
      return page(req, res, 'privacy/admin/confirm', {
        tenant, scope, user, course, rows: LEARNER_TABLES.map((t) => ({ table: t, n: counts[t] })),
      });
    }
    let result: ErasureResult;
    if (scope === 'student') result = await eraseStudent({ db, tenantId: tenant, userSub: user!, contextId: course, actor: ACTOR });
    else if (scope === 'course') result = await eraseCourse({ db, tenantId: tenant, contextId: course!, actor: ACTOR });
    else result = await eraseDeployment({ db, tenantId: tenant, actor: ACTOR });
    await retrainMarked(tenant, result);
    const locale = localeOf(req);
    const models = result.modelsMarked.map((m) => `#${m.modelId}`).join(', ') || translate(locale, 'admin.none');
    page(req, res, 'privacy/admin/data', { done: translate(locale, 'admin.erased', { models }) });
  }));

  const tenantExists = async (id: number) => !!(await db.selectFrom('deployment').select('id').where('id', '=', id).executeTakeFirst());
  const badInput = (req: Request, res: Response, problem: string) =>
    page(req, res, 'privacy/admin/data', { problem: translate(localeOf(req), 'admin.bad_input', { problem }) }, 400);
  /** One retraining per bank whose models learnt from erased answers; the job itself refuses when too few students are left. */
  const retrainMarked = async (tenantId: number, result: ErasureResult) => {
    for (const bankId of new Set(result.modelsMarked.map((m) => m.bankId))) await d.training.enqueue({ tenantId, bankId, requestedBy: 'system' });
  };
  return r;
}
