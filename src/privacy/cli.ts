/**
 * `jejak privacy …`: export a student's data, erase a student, a course or a deployment, apply
 * retention. Exit codes: 0 done; 2 a mistake in the arguments, or an erasure not confirmed with
 * --yes (nothing changed, the rows it would remove are listed); 1 anything else.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { z, ZodError } from 'zod';
import { ConfigError, loadConfig, ROOT } from '../config';
import { connect } from '../db/connect';
import { migrateToLatest } from '../db/migrate';
import type { Db } from '../db/schema';
import { exportStudentData } from './commands/exportStudentData';
import { eraseStudent, type ErasureResult } from './commands/eraseStudent';
import { eraseCourse } from './commands/eraseCourse';
import { eraseDeployment } from './commands/eraseDeployment';
import { applyRetention } from './commands/applyRetention';
import { LEARNER_TABLES, learnerDataCounts, studentDataCsv } from './data';

const USAGE = `Usage: npm run jejak -- privacy <command>

  export --tenant ID --user SUB [--course ID] [--format json|csv] [--out FILE]
                    a student's complete data (of one course, or of the whole tenant) to FILE or stdout
  erase --tenant ID --user SUB [--course ID] [--yes]   erase one student (in a course, or everywhere in the tenant)
  erase --tenant ID --course ID [--yes]                erase every student's data of a course
  erase --tenant ID --deployment [--yes]               erase every student's data of a deployment
                    without --yes nothing is erased: the rows it would remove are listed (exit code 2)
  retention [--days N]
                    fold attempts older than N days (default: the configured retentionDays) into per-item
                    totals and delete them

--tenant is the tenant id the admin page lists next to each deployment.`;

class UsageError extends Error {}

const Tenant = z.coerce.number().int().positive();

export async function runPrivacyCli(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s + '\n'), env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...args] = argv;
  const err = (s: string) => process.stderr.write(s + '\n');
  try {
    if (!command || command === '--help' || command === 'help') {
      out(USAGE);
      return command ? 0 : 2;
    }
    if (!['export', 'erase', 'retention'].includes(command)) throw new UsageError(`unknown command "${command}" (export, erase, retention)`);
    const config = loadConfig(env);
    const conn = await connect(config.databaseUrl, ROOT);
    try {
      await migrateToLatest(conn);
      if (command === 'export') return await exportCommand(conn.db, args, out);
      if (command === 'erase') return await eraseCommand(conn.db, args, out);
      const { values } = parseArgs({ args, options: { days: { type: 'string' } } });
      const days = values.days === undefined ? config.retentionDays : z.coerce.number().int().min(1).parse(values.days);
      if (days <= 0) {
        out('Retention is off (retentionDays is 0): nothing to do.');
        return 0;
      }
      const r = await applyRetention({ db: conn.db, retentionDays: days, actor: 'cli' });
      out(`Retention of ${days} days: removed ${r.attemptsRemoved} attempts and ${r.presentationsRemoved} items shown from before ${new Date(r.cutoff!).toISOString()}; their per-item totals are kept.`);
      return 0;
    } finally {
      await conn.close();
    }
  } catch (e) {
    const user = e instanceof UsageError || e instanceof ConfigError || e instanceof ZodError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    const message = e instanceof ZodError ? e.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ') : (e as Error).message;
    err(`jejak privacy${command ? ` ${command}` : ''}: ${user ? '' : 'failed: '}${message}`);
    return user ? 2 : 1;
  }
}

async function tenantOf(db: Db, value: string | undefined): Promise<number> {
  if (value === undefined) throw new UsageError('--tenant is required');
  const id = Tenant.parse(value);
  if (!(await db.selectFrom('deployment').select('id').where('id', '=', id).executeTakeFirst())) throw new UsageError(`there is no tenant ${id}`);
  return id;
}

async function exportCommand(db: Db, args: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseArgs({ args, options: { tenant: { type: 'string' }, user: { type: 'string' }, course: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' } } });
  const tenantId = await tenantOf(db, values.tenant);
  if (!values.user) throw new UsageError('--user is required');
  const format = z.enum(['json', 'csv']).parse(values.format ?? 'json');
  const data = await exportStudentData({ db, tenantId, userSub: values.user, contextId: values.course ?? null, actor: 'cli', format });
  const text = format === 'json' ? JSON.stringify(data, null, 2) : studentDataCsv(data);
  if (values.out) {
    fs.writeFileSync(values.out, text);
    const rows = Object.values(data.tables).reduce((n, t) => n + t.length, 0);
    out(`Exported ${rows} rows about ${values.user} (tenant ${tenantId}) to ${values.out}.`);
  } else {
    out(text);
  }
  return 0;
}

async function eraseCommand(db: Db, args: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseArgs({ args, options: { tenant: { type: 'string' }, user: { type: 'string' }, course: { type: 'string' }, deployment: { type: 'boolean' }, yes: { type: 'boolean' } } });
  const tenantId = await tenantOf(db, values.tenant);
  const contextId = values.course ?? null;
  if (values.deployment && (values.user || contextId)) throw new UsageError('--deployment erases the whole tenant: give neither --user nor --course');
  if (!values.deployment && !values.user && !contextId) throw new UsageError('say what to erase: --user SUB, --course ID or --deployment');
  const what = values.user ? `student ${values.user}${contextId ? ` in course ${contextId}` : ' in every course'}` : contextId ? `course ${contextId}` : 'the whole deployment';
  if (!values.yes) {
    const counts = await learnerDataCounts(db, { tenantId, contextId, userSub: values.user ?? null });
    out(`Would erase ${what} of tenant ${tenantId}:`);
    for (const t of LEARNER_TABLES) out(`  ${t}: ${counts[t]}`);
    out('Nothing erased: run again with --yes to erase.');
    return 2;
  }
  let r: ErasureResult;
  if (values.user) r = await eraseStudent({ db, tenantId, userSub: values.user, contextId, actor: 'cli' });
  else if (contextId) r = await eraseCourse({ db, tenantId, contextId, actor: 'cli' });
  else r = await eraseDeployment({ db, tenantId, actor: 'cli' });
  out(`Erased ${what} of tenant ${tenantId}: ${LEARNER_TABLES.map((t) => `${t} ${r.counts[t]}`).join(', ')}.`);
  for (const bankId of new Set(r.modelsMarked.map((m) => m.bankId))) {
    out(`Models of bank ${bankId} learnt from the erased answers and are marked for retraining: npm run jejak -- kt train --bank ${bankId} --tenant ${tenantId}`);
  }
  return 0;
}
