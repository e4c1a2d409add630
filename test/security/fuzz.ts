import fs from 'node:fs';
import path from 'node:path';
import { mulberry32 } from '../../src/random';
import { readBankFile, type BankFormat } from '../../src/content/import';
import { refusals } from '../../src/content/import/model';
import { MoodleSim } from '../platform';
import { launch, type HttpBrowser, type RequestContext } from '../support/http-browser';
import { testDialects } from '../support/db';
import { registerTool, startTool } from '../support/tool';
import { insertTestBank, placeActivity } from '../practice/support';

/** What one fuzz target saw: how many inputs, how each was answered, and anything that went wrong. */
export interface TargetResult {
  target: string;
  inputs: number;
  /** Count per HTTP status (or "ok"/"refused" for in-process targets). */
  outcomes: Record<string, number>;
  /** Inputs that got a 500, hung past the limit, or threw: each a short description. */
  problems: string[];
  slowestMs: number;
}

export interface FuzzReport {
  seed: number;
  targets: TargetResult[];
  /** /healthz after the run: the process survived. */
  healthyAfter: boolean;
}

const HANG_MS = 5_000;
const FIXTURES = path.resolve(__dirname, '../content/fixtures');

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

/** A value of a random awkward kind: empty, huge, unicode, control bytes, numbers, JSON fragments. */
function oddValue(r: Rand): unknown {
  return pick(r, [
    () => '', () => ' ', () => 'x'.repeat(1 + Math.floor(r() * 20_000)), () => '\u0000\u0001\u202e',
    () => 'ñ漢字🙂', () => String(Math.floor(r() * 1e12)), () => -1, () => 1e308, () => null, () => true,
    () => [], () => {}, () => ['a', 1, null], () => '<script>alert(1)</script>', () => '../../etc/passwd',
    () => 'https://evil.example/', () => "' OR 1=1 --", () => '%00%ff', () => '{"a":', () => 'NaN',
  ])();
}

/** Mutates a string: flip, drop, duplicate or insert characters, truncate, or splice in an odd value. */
function mutateText(r: Rand, s: string): string {
  const out = s.split('');
  const edits = 1 + Math.floor(r() * 8);
  for (let i = 0; i < edits && out.length; i++) {
    const at = Math.floor(r() * out.length);
    switch (Math.floor(r() * 6)) {
      case 0: out[at] = String.fromCharCode(Math.floor(r() * 0x2fff)); break;
      case 1: out.splice(at, 1 + Math.floor(r() * 40)); break;
      case 2: out.splice(at, 0, ...out.slice(at, at + 1 + Math.floor(r() * 80))); break;
      case 3: out.splice(at, 0, ...String(oddValue(r)).slice(0, 2000).split('')); break;
      case 4: out.length = at; break;
      default: out.splice(at, 0, pick(r, ['<', '>', '{', '}', '"', "'", '\n', ',', ';', '|', '\\', '=', '~', '#'])); break;
    }
  }
  return out.join('');
}

/** Mutates claims: drop one, replace one with an odd value, or add a strange one. */
function mutateClaims(r: Rand, claims: Record<string, unknown>): Record<string, unknown> {
  const c = JSON.parse(JSON.stringify(claims)) as Record<string, unknown>;
  const keys = Object.keys(c);
  const edits = 1 + Math.floor(r() * 3);
  for (let i = 0; i < edits; i++) {
    const k = pick(r, keys);
    const op = Math.floor(r() * 3);
    if (op === 0) delete c[k];
    else if (op === 1) c[k] = oddValue(r);
    else c[`https://purl.imsglobal.org/spec/lti/claim/${mutateText(r, 'custom')}`] = oddValue(r);
  }
  return c;
}

function record(t: TargetResult, outcome: string, ms: number, describe: () => string): void {
  t.inputs++;
  t.outcomes[outcome] = (t.outcomes[outcome] ?? 0) + 1;
  t.slowestMs = Math.max(t.slowestMs, ms);
  if (outcome === '500' || outcome === 'threw' || ms > HANG_MS) t.problems.push(`${outcome} after ${Math.round(ms)} ms: ${describe().slice(0, 300)}`);
}

const newTarget = (target: string): TargetResult => ({ target, inputs: 0, outcomes: {}, problems: [], slowestMs: 0 });

/**
 * Throws random and mutated input at the places where Jejak meets the world: login initiations,
 * id_tokens (badly signed, and validly signed with mutated claims), the bank importers, and practice
 * form posts. Bounded by `perTarget` inputs each; loopback only.
 */
export async function runFuzz(opts: { seed: number; perTarget: number }): Promise<FuzzReport> {
  const r = mulberry32(opts.seed);
  const db = await testDialects()[0].create();
  const tool = await startTool(db);
  const sim = await MoodleSim.start();
  const targets: TargetResult[] = [];
  try {
    const clientId = await registerTool(sim, tool);
    const { course, teacher, students } = sim.seedDefault();
    const bank = await insertTestBank(tool.jejak.conn.db);
    const placed = await placeActivity(sim, clientId, course.id, teacher.id, bank);

    const post = async (t: TargetResult, browser: HttpBrowser | undefined, url: string, form: Record<string, string>, context?: RequestContext) => {
      const started = performance.now();
      try {
        const res = browser
          ? await browser.post(url, form, { context, followRedirects: false })
          : await fetch(url, { method: 'POST', body: new URLSearchParams(form), redirect: 'manual', signal: AbortSignal.timeout(HANG_MS * 2) });
        record(t, String(res.status), performance.now() - started, () => JSON.stringify(form));
      } catch (e) {
        record(t, 'threw', performance.now() - started, () => `${(e as Error).message} ${JSON.stringify(form)}`);
      }
    };

    // 1. Login initiations: real parameters, mutated.
    const login = newTarget('login initiation (POST /lti/login)');
    const base = { iss: sim.issuer, login_hint: students[0].id, target_link_uri: `${tool.url}/lti/launch`, client_id: clientId, lti_message_hint: '{"cmid":2}' };
    for (let i = 0; i < opts.perTarget; i++) {
      const form: Record<string, string> = { ...base };
      for (const k of Object.keys(form)) if (r() < 0.4) form[k] = r() < 0.5 ? mutateText(r, form[k]) : String(oddValue(r));
      if (r() < 0.2) delete form[pick(r, Object.keys(form))];
      await post(login, undefined, `${tool.url}/lti/login`, form);
    }
    targets.push(login);

    // 2. id_tokens against a real pending login (a failed validation leaves the login usable).
    const pending = await launch(sim, { clientId, userId: students[0].id, courseId: course.id, activityId: placed.linkId, stopBefore: 'toolLaunch' });
    const claims = sim.launchClaims({ clientId, userId: students[0].id, courseId: course.id, activityId: placed.linkId });
    const tokens = newTarget('id_token (POST /lti/launch)');
    for (let i = 0; i < opts.perTarget; i++) {
      const kind = Math.floor(r() * 3);
      const token = kind === 0
        ? mutateText(r, pending.idToken!)
        : kind === 1
          ? sim.mintIdToken(mutateClaims(r, claims), { iatOffsetSec: Math.floor(r() * 40) - 20 })
          : String(oddValue(r));
      await post(tokens, pending.browser, pending.authForm!.action, { id_token: token, state: r() < 0.9 ? pending.state! : mutateText(r, pending.state!) }, pending.context);
    }
    targets.push(tokens);

    // 3. Bank files: every fixture, mutated, through the importer itself.
    const files = fs.readdirSync(FIXTURES).map((f) => ({ name: f, text: fs.readFileSync(path.join(FIXTURES, f), 'utf8') }));
    const importer = newTarget('bank import (Moodle XML, GIFT, CSV)');
    const formatOf: Record<string, BankFormat> = { xml: 'moodle-xml', gift: 'gift', csv: 'csv' };
    for (let i = 0; i < opts.perTarget; i++) {
      const file = pick(r, files);
      const text = mutateText(r, file.text);
      const started = performance.now();
      try {
        const parsed = await readBankFile(formatOf[file.name.split('.').pop()!], text, 'id');
        record(importer, refusals(parsed).length > 0 ? 'refused' : 'ok', performance.now() - started, () => file.name);
      } catch (e) {
        record(importer, 'threw', performance.now() - started, () => `${file.name}: ${(e as Error).message}`);
      }
    }
    targets.push(importer);

    // 4. Practice form posts from a real student session, with the right CSRF token and odd fields.
    const student = await launch(sim, { clientId, userId: students[1].id, courseId: course.id, activityId: placed.linkId });
    const page = student.final;
    const action = page.url.replace(/\/?$/, '/').replace(/\/$/, '') + '/practice/answer';
    const sessionPath = /\/s\/[^/]+/.exec(page.url)![0];
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const token = /name="token" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const answers = newTarget('practice answers (POST …/practice/answer, …/hint)');
    for (let i = 0; i < opts.perTarget; i++) {
      const form: Record<string, string> = { _csrf: csrf, token: r() < 0.7 ? token : mutateText(r, token), answer: String(oddValue(r)) };
      if (r() < 0.3) form[mutateText(r, 'answer')] = String(oddValue(r));
      const where = r() < 0.8 ? `${tool.url}${sessionPath}/practice/answer` : `${tool.url}${sessionPath}/practice/hint`;
      // Posted from the practice page itself, as the student's browser would.
      await post(answers, student.browser, r() < 0.05 ? action : where, form, { ...student.context, initiator: page.url });
    }
    targets.push(answers);

    const health = await fetch(`${tool.url}/healthz`);
    return { seed: opts.seed, targets, healthyAfter: health.ok };
  } finally {
    await sim.close();
    await tool.close();
    await db.drop();
  }
}

/** The report as Markdown, for bench/fuzz-report.md. */
export function fuzzReportMarkdown(report: FuzzReport, seconds: number): string {
  const rows = report.targets.map((t) => `| ${t.target} | ${t.inputs} | ${Object.entries(t.outcomes).sort().map(([k, v]) => `${k}: ${v}`).join(', ')} | ${Math.round(t.slowestMs)} | ${t.problems.length} |`);
  const total = report.targets.reduce((n, t) => n + t.inputs, 0);
  return [
    '# Fuzz run', '',
    `Seed ${report.seed}; ${total} inputs in ${seconds.toFixed(0)} s; process healthy afterwards: ${report.healthyAfter ? 'yes' : 'NO'}.`,
    'A problem is a 500, an exception out of an importer, or an answer slower than 5 s.', '',
    '| target | inputs | outcomes | slowest (ms) | problems |', '|---|---|---|---|---|', ...rows, '',
    ...report.targets.flatMap((t) => t.problems.map((p) => `- ${t.target}: ${p}`)),
  ].join('\n') + '\n';
}
