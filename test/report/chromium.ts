/**
 * Test helper (not a test): Debian's Chromium under playwright-core, headless, as the machine's
 * notes say it must be started here (no sandbox as root, no background networking: this machine's
 * closed network refuses those connections), with a profile of its own in `dir`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** false when Chromium is there, else the reason to skip */
export const chromiumSkip: false | string = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found (apt-get install -y chromium)`;

export async function launchChromium(dir: string): Promise<BrowserContext> {
  const { chromium } = await import('playwright-core');
  return chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
