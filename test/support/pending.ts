import Mocha from 'mocha';

/**
 * Tests that need something a fresh clone with only Node 20 lacks (a database server, Debian's Chromium,
 * nginx, root, the public datasets) are reported as pending with the reason, never dropped without a line,
 * and the run closes with one line counting them by reason. In CI (CI set) every such need is a failure:
 * .ci/run installs and starts all of them.
 *
 * This file is both the helper the tests call and mocha's reporter (package.json's mocha config): the
 * reporter is the one place that sees which hook or test is running, which the helper needs to skip it.
 */

/** The hook or test running now; the reporter keeps it, skipForMissing and noteMissing act on it. */
let running: { runnable: Mocha.Runnable; hook: boolean } | undefined;
/** Why each skipped suite (from its before-all hook) or test is pending. */
const reasons = new Map<Mocha.Suite | Mocha.Runnable, string>();

function reasonFor(test: Mocha.Runnable): string {
  for (let at: Mocha.Runnable | Mocha.Suite | undefined = test; at; at = at.parent) {
    const reason = reasons.get(at);
    if (reason) return reason;
  }
  return 'skipped in the test itself, no reason given';
}

/** What is missing, in the words the closing line uses. */
export interface Missing {
  /** The thing, e.g. `PostgreSQL`. */
  what: string;
  /** Why it counts as missing and how to provide it, e.g. `TEST_DATABASE_URL unset`. */
  why: string;
  /** False for what .ci/run cannot install (the public datasets): pending even in CI. */
  ciProvides?: boolean;
}

function describeMissing(m: Missing): string {
  return `${m.what}: ${m.why}`;
}

function failInCi(m: Missing): void {
  if (process.env.CI && m.ciProvides !== false) throw new Error(`${describeMissing(m)}; CI must run every test (.ci/run provides it)`);
}

/**
 * Records why the running hook's suite (or the running test) is about to be skipped, for callers that
 * then call mocha's `this.skip()` themselves. Throws in CI.
 */
export function noteMissing(m: Missing): void {
  failInCi(m);
  if (!running) return;
  reasons.set(running.hook ? running.runnable.parent! : running.runnable, describeMissing(m));
}

/**
 * Skips what is running because `m` is missing: called from a before-all hook, its whole suite (hooks
 * included: its after hooks do not run either, as they would clean up what was never made); from a test,
 * that test. Throws in CI, and when no hook or test is running (mocha run without this reporter).
 */
export function skipForMissing(m: Missing): never {
  failInCi(m);
  if (!running) throw new Error(`${describeMissing(m)} (and no test is running to skip: run mocha with the reporter test/support/pending.ts)`);
  noteMissing(m);
  const { runnable, hook } = running;
  if (hook) runnable.parent!.pending = true;
  return runnable.skip();
}

const { EVENT_HOOK_BEGIN, EVENT_HOOK_END, EVENT_TEST_BEGIN, EVENT_TEST_END, EVENT_TEST_PENDING, EVENT_RUN_END } = Mocha.Runner.constants;

/** Mocha's spec reporter, plus the running hook or test for the helpers above and the closing pending line. */
export default class PendingReasonsReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const pending = new Map<string, number>();
    runner.on(EVENT_HOOK_BEGIN, (hook: Mocha.Hook) => { running = { runnable: hook, hook: true }; });
    runner.on(EVENT_TEST_BEGIN, (test: Mocha.Test) => { running = { runnable: test, hook: false }; });
    runner.on(EVENT_HOOK_END, () => { running = undefined; });
    runner.on(EVENT_TEST_END, () => { running = undefined; });
    runner.on(EVENT_TEST_PENDING, (test: Mocha.Test) => {
      const reason = reasonFor(test);
      pending.set(reason, (pending.get(reason) ?? 0) + 1);
    });
    // Registered after the spec reporter's own summary, so it prints last.
    runner.once(EVENT_RUN_END, () => {
      const total = [...pending.values()].reduce((a, b) => a + b, 0);
      const byReason = [...pending].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${n} × ${reason}`);
      console.log(`  pending: ${total}${total ? ` (${byReason.join('; ')})` : ''}\n`);
    });
  }
}
