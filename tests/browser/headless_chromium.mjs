// Debian's Chromium (never a downloaded one) driven by playwright-core from
// web/node_modules, for the browser tests. When either is missing the test
// exits 77, ctest's skip code, saying what to install.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SKIP = 77;

// playwright-core's `chromium` and the browser's path, or exit(SKIP).
export function findChromium() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const require = createRequire(path.join(here, '..', '..', 'web', 'package.json'));
  const executablePath = process.env.MOLEARN_CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    console.log(`SKIPPED: no Chromium at ${executablePath} (apt-get install chromium)`);
    process.exit(SKIP);
  }
  try {
    const { chromium } = require('playwright-core');
    return { chromium, executablePath };
  } catch (e) {
    console.log('SKIPPED: playwright-core is not installed in web/node_modules (npm ci --prefix web)');
    process.exit(SKIP);
  }
}
