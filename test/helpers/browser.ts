// Debian's Chromium, headless, driven by playwright-core (which never downloads a browser of its own). The
// flags keep it from reaching out to Google's services, which this machine's closed network refuses.
// Playwright gives every launch a fresh, empty --user-data-dir of its own (and refuses one in `args`).
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.SEGTASKS_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
