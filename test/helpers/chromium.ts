/**
 * Headless Chromium for the dashboard's browser tests, driven by playwright-core. Chromium comes
 * from the system (Debian's `chromium` package; `.ci/run` installs it), or from HARROW_CHROMIUM.
 * Locally the tests skip without it; in CI they fail.
 */
import { accessSync, constants } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.HARROW_CHROMIUM ?? '/usr/bin/chromium';
/** No outside network here: keep Chromium from dialing home (refused connections are noisy). */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** `{ skip }` without Chromium locally, with how to get it; in CI a missing browser fails the run. */
export function needChromium(): { skip?: string } {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return {};
  } catch {
    // Reported below.
  }
  const problem = `no Chromium at ${CHROMIUM}.`;
  const howTo = ['Install it with:', '  apt-get update && apt-get install -y chromium', 'or point HARROW_CHROMIUM at a Chromium or Chrome executable.'].join('\n');
  if (process.env.CI) throw new Error(`the dashboard browser tests need Chromium in CI: ${problem}\n${howTo}`);
  const message = `SKIPPED the dashboard browser tests: ${problem}\n${howTo}`;
  console.error(`\n*** ${message}\n`);
  return { skip: message };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}
