/**
 * Dynamic registration as a Moodle admin does it, in real Chromium (which enforces the CSP that
 * test/support/http-browser.ts ignores): Moodle's Manage tools page, on an origin Jejak has never seen,
 * frames the registration URL; the admin clicks Register inside the frame; the dialog closes on the
 * tool's org.imsglobal.lti.close message and the tool is Pending in Moodle (issue 12.1).
 */
import { expect } from 'chai';
import { MoodleSim } from '../platform';
import { chromiumAvailable, openChromium, type OpenBrowser } from '../support/chromium';
import { sqliteDatabase, type TestDatabase } from '../support/db';
import { startTool, type RunningTool } from '../support/tool';

describe('dynamic registration framed by an unregistered Moodle, in Chromium', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  let tool: RunningTool;
  let sim: MoodleSim;
  let browser: OpenBrowser;

  before(async function () {
    if (!chromiumAvailable()) this.skip();
    tdb = await sqliteDatabase();
    tool = await startTool(tdb);
    // The sim on 127.0.0.1, the tool on localhost: another origin (and site), not registered.
    sim = await MoodleSim.start();
    browser = await openChromium();
  });
  after(async () => {
    await browser?.close();
    await sim?.close();
    await tool?.close();
    await tdb?.drop();
  });

  it('shows the Register button in Moodle\'s dialog; clicking it registers the tool and closes the dialog', async () => {
    expect(await tool.jejak.platforms.list(), 'no platform registered yet').to.deep.equal([]);
    const page = await browser.context.newPage();
    const refusals: string[] = [];
    page.on('console', (m) => {
      if (/frame-ancestors|Refused to/i.test(m.text())) refusals.push(m.text());
    });
    await page.goto(sim.registrationDialogUrl(tool.jejak.urls.registration));
    const frame = page.frameLocator('#lti-registration');
    const register = frame.getByRole('button', { name: 'Register' });
    try {
      await register.waitFor({ timeout: 10_000 });
    } catch {
      throw new Error(`the registration page did not show inside Moodle's frame: ${refusals.join(' | ') || 'no Register button'}`);
    }
    // The done page closes its frame at once, after which the browser no longer hands out its body:
    // the POST goes through a route that keeps what the tool answered.
    let done: { status: number; body: string } | undefined;
    await page.route(`${tool.url}/lti/register`, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      const response = await route.fetch();
      done = { status: response.status(), body: await response.text() };
      await route.fulfill({ response });
    });
    await register.click();
    // The done page's close message reached the parent, from the frame: the dialog is gone.
    await page.waitForSelector('body[data-registration="closed"]', { state: 'attached', timeout: 10_000 });
    expect(done?.status).to.equal(200);
    expect(done?.body).to.contain('Jejak is registered');
    expect(await page.locator('#lti-registration').count()).to.equal(0);
    const tools = [...sim.tools.values()];
    expect(tools).to.have.length(1);
    expect(tools[0]!.state).to.equal('pending');
    expect((await tool.jejak.platforms.list()).map((p) => p.issuer)).to.deep.equal([sim.issuer]);
    expect(refusals).to.deep.equal([]);
  });
});
