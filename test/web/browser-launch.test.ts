import { expect } from 'chai';
import type { Frame, Page } from 'playwright-core';
import { MoodleSim } from '../platform';
import { testDialects, type TestDatabase } from '../support/db';
import { registerTool, startTool, type RunningTool } from '../support/tool';
import { chromiumAvailable, openChromium } from '../support/chromium';

/** The tool's frame inside the course page, once it shows `text`. */
async function toolFrameShowing(page: Page, toolUrl: string, text: string): Promise<Frame> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    for (const f of page.frames()) {
      if (f.url().startsWith(toolUrl) && (await f.content().catch(() => '')).includes(text)) return f;
    }
    await page.waitForTimeout(100);
  }
  const urls = page.frames().map((f) => f.url());
  throw new Error(`no tool frame showing "${text}"; frames: ${urls.join(', ')}`);
}

describe('launch in a real browser (Chromium), tool (HTTPS) and LMS on different sites', function () {
  this.timeout(60_000);
  const dialect = testDialects()[0];
  let tdb: TestDatabase;
  let tool: RunningTool;
  let moodle: MoodleSim;
  let storageLms: MoodleSim;
  let moodleClient: string;
  let storageClient: string;

  before(async function () {
    if (!chromiumAvailable()) {
      console.warn('    (Chromium not installed: browser tests skipped; `apt-get install chromium` to run them)');
      this.skip();
    }
    tdb = await dialect.create();
    tool = await startTool(tdb, {}, { https: true });
    moodle = await MoodleSim.start();
    storageLms = await MoodleSim.start({ storageTarget: true });
    moodleClient = await registerTool(moodle, tool);
    storageClient = await registerTool(storageLms, tool);
  });
  after(async () => {
    await moodle?.close();
    await storageLms?.close();
    await tool?.close();
    await tdb?.drop();
  });

  function launchUrl(sim: MoodleSim, clientId: string): string {
    const { course, students } = sim.seedDefault();
    const activityId = sim.addActivity({ courseId: course.id, clientId, title: 'Pecahan' });
    return sim.launchPageUrl({ clientId, userId: students[0].id, courseId: course.id, activityId, presentation: 'iframe' });
  }

  async function withBrowser(blockThirdPartyCookies: boolean, fn: (page: Page) => Promise<void>): Promise<void> {
    const browser = await openChromium({ blockThirdPartyCookies });
    try {
      await fn(await browser.context.newPage());
    } finally {
      await browser.close();
    }
  }

  it('third-party cookies allowed: the launch completes inside the course iframe (SameSite=None; Secure)', async () => {
    await withBrowser(false, async (page) => {
      await page.goto(launchUrl(moodle, moodleClient));
      const frame = await toolFrameShowing(page, tool.url, 'Your practice');
      expect(frame.url()).to.match(/\/s\/[\w-]+\/$/);
      const cookies = await page.context().cookies(tool.url);
      const session = cookies.find((c) => c.name.startsWith('jejak_session_'));
      expect(session, 'session cookie').to.not.equal(undefined);
      expect(session!.sameSite).to.equal('None');
      expect(session!.secure).to.equal(true);
    });
  });

  it('third-party cookies blocked, Moodle 5.1 (no platform storage): offers a new window, where the launch completes', async () => {
    await withBrowser(true, async (page) => {
      await page.goto(launchUrl(moodle, moodleClient));
      const frame = await toolFrameShowing(page, tool.url, 'Open Jejak in a new window');
      const [popup] = await Promise.all([page.context().waitForEvent('page'), frame.getByRole('button', { name: 'Open in a new window' }).click()]);
      await popup.waitForURL(/\/s\/[\w-]+\/$/, { timeout: 15_000 });
      expect(await popup.content()).to.contain('Your practice');
    });
  });

  it('third-party cookies blocked, platform offers postMessage storage: the launch completes in the iframe', async () => {
    const before = tool.logs.length;
    await withBrowser(true, async (page) => {
      await page.goto(launchUrl(storageLms, storageClient));
      const frame = await toolFrameShowing(page, tool.url, 'Your practice');
      expect(frame.url()).to.match(/\/s\/[\w-]+\/$/);
      expect(await page.context().cookies(tool.url)).to.deep.equal([]);
    });
    const accepted = tool.logs.slice(before).filter((l) => l.msg === 'launch accepted');
    expect(accepted.map((l) => l.binding)).to.deep.equal(['platform-storage']);
  });
});
