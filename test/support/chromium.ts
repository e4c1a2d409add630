import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { noteMissing } from './pending';

const EXECUTABLE = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Debian's Chromium, driven by playwright-core. Where it is missing a developer's run skips the browser
 * tests as pending, with the reason in the closing line; CI (CI=true) installs it in .ci/run, so there a
 * missing browser fails.
 */
export function chromiumAvailable(): boolean {
  if (fs.existsSync(EXECUTABLE)) return true;
  noteMissing({ what: 'Chromium', why: `${EXECUTABLE} missing (apt-get install chromium, or set CHROMIUM_PATH)` });
  return false;
}

export interface OpenBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * A browser with an ordinary (not incognito) profile in a fresh folder: incognito contexts, playwright's
 * default, block third-party cookies on their own, which would hide what the setting changes.
 */
export async function openChromium(opts: { blockThirdPartyCookies?: boolean; viewport?: { width: number; height: number } } = {}): Promise<OpenBrowser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'jejak-chromium-'));
  const args = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
    // The test tool serves HTTPS with a self-signed certificate for localhost.
    '--ignore-certificate-errors',
  ];
  // Third-party cookies as a user or a school's managed browser sets them: allowed through the
  // profile's setting (cookie_controls_mode 0), or blocked by Chromium's phase-out switch.
  const block = opts.blockThirdPartyCookies ?? false;
  if (!block) {
    fs.mkdirSync(path.join(profile, 'Default'));
    fs.writeFileSync(path.join(profile, 'Default', 'Preferences'), JSON.stringify({ profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }));
  } else {
    args.push('--test-third-party-cookie-phaseout');
  }
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: EXECUTABLE, headless: true, args, viewport: opts.viewport ?? { width: 1024, height: 768 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
