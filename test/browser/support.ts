import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(process.cwd(), 'test', 'artifacts');
export const chromiumInstalled = (): boolean => existsSync(CHROMIUM);

/**
 * Debian's Chromium, headless, no sandbox, nothing phoning home. playwright's `launch` refuses a
 * `--user-data-dir` argument and itself starts Chromium on a new empty temporary profile; every
 * test context is a fresh incognito-like context on top of it.
 */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
