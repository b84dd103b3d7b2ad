/** Test helpers: the committed fixture run, temp copies, the Chromium the browser test drives. */
import { accessSync, constants, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A few scenarios of a real run, captures cut to the signalling (made by make-fixture.ts). */
export const FIXTURE_RUN = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'run');

/** A copy of the fixture run in a temp directory (the report is written into the run directory). */
export function fixtureCopy(): { dir: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'imslab-report-'));
  const dir = join(root, 'run');
  cpSync(FIXTURE_RUN, dir, { recursive: true });
  return { dir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Debian's Chromium; a missing one fails the test naming the package (never a silent skip). */
export function requireChromium(): string {
  for (const p of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  throw new Error('chromium is required by this test but not installed: apt-get install chromium (Debian package "chromium")');
}
