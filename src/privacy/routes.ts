import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Config } from '../config';
import type { Db } from '../db/schema';
import { insertIfAbsent } from '../db/writes';
import { pickLocale, translate } from '../web/i18n';
import type { Renderer } from '../web/render';
import { NotInCourse } from '../teacher/overrides';
import { exportStudentData } from './commands/exportStudentData';
import { studentDataCsv, type StudentData } from './data';

declare module 'express-serve-static-core' {
  interface Locals {
    /** Set on a student's first page in the tenant: the layout shows the privacy notice. */
    privacyNotice?: boolean;
  }
}

export interface PrivacyRouteDeps {
  db: Db;
  render: Renderer;
  config: Pick<Config, 'retentionDays' | 'storePersonalNames'>;
}

const wrap = (fn: (req: Request, res: Response, next: NextFunction) => Promise<void>): RequestHandler => (req, res, next) => {
  fn(req, res, next).catch(next);
};

/** The public privacy page, in the language asked for (?lang=) or the browser's. */
export function privacyPublicRoutes(d: PrivacyRouteDeps): Router {
  const r = Router();
  r.get('/privacy', (req, res) => {
    const locale = pickLocale(typeof req.query.lang === 'string' ? req.query.lang : req.get('accept-language'));
    d.render(res, 'privacy/page', pageModel(d, locale, null));
  });
  return r;
}

function pageModel(d: PrivacyRouteDeps, locale: 'en' | 'id', exportBase: string | null) {
  return { locale, title: translate(locale, 'privacy.title'), retentionDays: d.config.retentionDays, namesStored: d.config.storePersonalNames, exportBase };
}

function sendExport(res: Response, data: StudentData, format: 'json' | 'csv'): void {
  const name = `jejak-data-${data.tenantId}.${format}`;
  res.set('content-disposition', `attachment; filename="${name}"`);
  if (format === 'json') res.type('application/json').send(JSON.stringify(data, null, 2));
  else res.type('text/csv; charset=utf-8').send(studentDataCsv(data));
}

/**
 * Behind a launch: the first-launch notice, the privacy page in the session's language (with the
 * student's own downloads), and a teacher's export of one student of the course.
 */
export function privacySessionRoutes(d: PrivacyRouteDeps): Router {
  const { db } = d;
  const r = Router({ mergeParams: true });

  // Remembered per tenant and user before the page is shown: only the request that inserts the row shows it.
  // A session asks once per process: from then on the row exists, whichever request or process wrote it.
  const asked = new Set<string>();
  r.use(wrap(async (req, res, next) => {
    const launch = res.locals.launch!;
    if (req.method === 'GET' && launch.audience === 'student' && !req.path.includes('/export.') && !asked.has(launch.sessionId)) {
      const inserted = await insertIfAbsent(db, 'privacy_notice', { tenant_id: launch.tenantId, user_sub: launch.userSub, shown_at: Date.now() }, ['tenant_id', 'user_sub']);
      if (inserted) res.locals.privacyNotice = true;
      if (asked.size >= 50_000) asked.clear();
      asked.add(launch.sessionId);
    }
    next();
  }));

  r.get('/privacy', (_req, res) => {
    const launch = res.locals.launch!;
    d.render(res, 'privacy/page', pageModel(d, launch.locale, launch.audience === 'student' ? `/s/${launch.sessionId}/privacy` : null));
  });

  r.get('/privacy/export.:format(json|csv)', wrap(async (req, res) => {
    const launch = res.locals.launch!;
    const format = req.params.format as 'json' | 'csv';
    // A student's own data across the tenant's courses: it is all theirs.
    const data = await exportStudentData({ db, tenantId: launch.tenantId, userSub: launch.userSub, actor: `lti:${launch.userSub}`, format });
    sendExport(res, data, format);
  }));

  r.get('/privacy/students/:sub/export.:format(json|csv)', (req, res, next) => {
    const launch = res.locals.launch!;
    const format = req.params.format as 'json' | 'csv';
    // A teacher sees only what a student of this course did in this course; anyone else is not found.
    exportStudentData({ db, tenantId: launch.tenantId, contextId: launch.contextId, membersOnly: true, userSub: req.params.sub!, actor: `lti:${launch.userSub}`, format })
      .then((data) => sendExport(res, data, format), (e) => next(e instanceof NotInCourse ? undefined : e));
  });
  return r;
}
