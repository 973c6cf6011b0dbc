/**
 * Headless Chromium for browser tests: Debian's `chromium` package (`.ci/run` installs it), or
 * HARROW_CHROMIUM. Locally a test skips without it, saying how to get it; in CI it fails.
 */
import { accessSync, constants } from 'node:fs';

export const CHROMIUM = process.env.HARROW_CHROMIUM ?? '/usr/bin/chromium';

/** No outside network here: keep Chromium from dialing home (refused connections are noisy). */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function needChromium(what: string): { skip?: string } {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return {};
  } catch {
    // Reported below.
  }
  const problem = `no Chromium at ${CHROMIUM}.`;
  const howTo = ['Install it with:', '  apt-get update && apt-get install -y chromium', 'or point HARROW_CHROMIUM at a Chromium or Chrome executable.'].join('\n');
  if (process.env.CI) throw new Error(`${what} needs Chromium in CI: ${problem}\n${howTo}`);
  const message = `SKIPPED ${what}: ${problem}\n${howTo}`;
  console.error(`\n*** ${message}\n`);
  return { skip: message };
}
