/**
 * The platform simulator's LTI client-side postMessage storage (lti.capabilities / lti.put_data /
 * lti.get_data), proved in real headless Chromium (skipped when Chromium is not installed).
 * Run: npx mocha test/platform/storage.browser.test.ts
 */
import { existsSync } from 'node:fs';
import { expect } from 'chai';
import { chromium } from 'playwright-core';
import { MoodleSim } from './index';
import { MiniTool } from './mini-tool';

describe('MoodleSim', function () {
  this.timeout(20000);
  describe('LTI client-side postMessage storage in Chromium', () => {
    const executablePath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

    it('answers lti.capabilities, lti.put_data and lti.get_data from the tool frame, per the spec', async function () {
      if (!executablePath) this.skip();
      const sim = await MoodleSim.start({ storageTarget: true });
      const tool = await MiniTool.start({ issuer: sim.issuer, platformJwksUrl: sim.jwksUrl, authUrl: sim.authUrl });
      const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
      try {
        const t = sim.addTool({ loginUrl: tool.storageProbeUrl, redirectUris: [tool.redirectUri], jwksUrl: tool.jwksUrl, targetLinkUri: tool.url });
        const { course, students } = sim.seedDefault();
        const activityId = sim.addActivity({ courseId: course.id, clientId: t.clientId, title: 'Probe' });
        const page = await browser.newPage();
        await page.goto(sim.launchPageUrl({ clientId: t.clientId, userId: students[0]!.id, courseId: course.id, activityId }));
        let probe = page.frames().find((f) => f.url().startsWith(tool.storageProbeUrl));
        for (let i = 0; !probe && i < 50; i++) {
          await page.waitForTimeout(100);
          probe = page.frames().find((f) => f.url().startsWith(tool.storageProbeUrl));
        }
        expect(probe, 'tool frame').to.not.equal(undefined);
        await probe!.waitForSelector('body[data-done="1"]', { timeout: 5000 });
        const r = JSON.parse((await probe!.textContent('#out'))!) as Record<string, { origin: string; data: Record<string, unknown> }> & { target: string };
        const simOrigin = new URL(sim.issuer).origin;
        expect(r.target).to.equal('post_message_forwarding');
        expect(r.capabilities!.origin).to.equal(simOrigin);
        expect(r.capabilities!.data.subject).to.equal('lti.capabilities.response');
        expect(r.capabilities!.data.supported_messages).to.deep.include({ subject: 'lti.put_data', frame: 'post_message_forwarding' });
        expect(r.put!.data).to.include({ subject: 'lti.put_data.response', key: 'state_abc', value: 'nonce-1' });
        expect(r.get!.data).to.include({ subject: 'lti.get_data.response', key: 'state_abc', value: 'nonce-1' });
        expect(r.missing!.data).to.include({ subject: 'lti.get_data.response', key: 'nope' }).and.not.have.property('value');
        expect((r.bad!.data.error as Record<string, unknown>).code).to.equal('bad_request');
        expect((r.unsupported!.data.error as Record<string, unknown>).code).to.equal('unsupported_subject');
      } finally {
        await browser.close();
        await tool.close();
        await sim.close();
      }
    });
  });
});
