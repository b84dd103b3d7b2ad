/**
 * The report in a real browser: Debian's Chromium, headless, driven by
 * playwright-core. The page must make no request but for itself, show the
 * verdict table, colour the network's links by protection, mark the key
 * exchange in the ladders, and render to a screenshot that is not blank.
 * The screenshots stay in $TMPDIR/imslab-report-screenshots/ for a look.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '@imslab/run-format';
import { PROTECTION_STYLE, writeReport } from '../src/index.ts';
import { fixtureCopy, requireChromium } from './helpers.ts';
import { decodePng, distinctColours, pixel } from './png.ts';

export const SCREENSHOT_DIR = join(tmpdir(), 'imslab-report-screenshots');

const rgb = (hex: string) => `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;

describe('report.html in headless Chromium', () => {
  let run: ReturnType<typeof fixtureCopy>;
  let profile: string;
  let ctx: BrowserContext;
  let page: Page;
  let url: string;
  const requests: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    const executablePath = requireChromium();
    run = fixtureCopy();
    const { file } = await writeReport(run.dir);
    url = pathToFileURL(file).href;
    profile = mkdtempSync(join(tmpdir(), 'imslab-chromium-profile-'));
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
      deviceScaleFactor: 1,
    });
    ctx.on('request', (r) => requests.push(r.url()));
    page = ctx.pages()[0] ?? (await ctx.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(url, { waitUntil: 'load' });
    rmSync(SCREENSHOT_DIR, { recursive: true, force: true });
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await ctx?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    run?.cleanup();
  });

  it('requests nothing but the file itself, and the page reports no error (no CSP violation)', () => {
    expect(requests).toEqual([url]);
    expect(problems).toEqual([]);
  });

  it('shows a row per call in the verdict table', async () => {
    const summary = JSON.parse(readFileSync(join(run.dir, 'summary.json'), 'utf8')) as RunSummary;
    const rows = await page.locator('table.verdicts tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())));
    const expected = summary.results.flatMap((r) => r.calls.map((c) => [r.scenario, c.alias, c.expected, c.observed, c.pass ? 'pass' : 'FAIL']));
    expect(rows.map((r) => r.slice(0, 5))).toEqual(expected);
    expect(rows.find((r) => r[0] === 'access-edge-protection')?.[5]).toContain('caller->callee: e2ae; access-a: srtp under alice/tx/');
    await expect(page.locator('h1').textContent()).resolves.toContain(summary.run);
  });

  it('colours the links of access-edge-protection: SRTP on the access links (e2ae), plaintext in the core', async () => {
    const net = page.locator('#s--access-edge-protection svg.network');
    const colourOf = (link: string) => net.locator(`line.media[data-link="${link}"][data-protection]:not([data-protection="absent"])`).first()
      .evaluate((el) => [el.getAttribute('data-protection'), getComputedStyle(el).stroke]);
    expect(await colourOf('access-a')).toEqual(['e2ae', rgb(PROTECTION_STYLE.e2ae.colour)]);
    expect(await colourOf('core')).toEqual(['none', rgb(PROTECTION_STYLE.none.colour)]);
    expect(await colourOf('access-b')).toEqual(['e2ae', rgb(PROTECTION_STYLE.e2ae.colour)]);
    // Not colour alone: each band says it in words.
    const words = await net.locator('g.band').evaluateAll((gs) => gs.map((g) => `${g.getAttribute('data-link')}: ${g.querySelector('.band-class')?.textContent}`));
    expect(words).toEqual(['access-a: e2ae / hop', 'core: none (plaintext)', 'access-b: e2ae / hop']);
    // The e2e scenario next to it is green throughout.
    const e2e = await page.locator('#s--e2e-mikey-ticket-call svg.network line.media:not([data-protection="absent"])').evaluateAll((ls) => [...new Set(ls.map((l) => getComputedStyle(l).stroke))]);
    expect(e2e).toEqual([rgb(PROTECTION_STYLE.e2e.colour)]);
  });

  it('draws the ladder with the INVITE and the 200 OK marked a=crypto', async () => {
    const ladder = page.locator('#s--access-edge-protection svg.ladder').first();
    const invite = ladder.locator('g.msg[data-first-line^="INVITE "]').first();
    const ok = ladder.locator('g.msg[data-first-line^="SIP/2.0 200 OK"]').filter({ has: page.locator('[data-badge="crypto"]') }).first();
    await expect(invite.locator('[data-badge="crypto"] text').textContent()).resolves.toBe('a=crypto');
    await expect(invite.locator('[data-badge="crypto"] title').textContent()).resolves.toBe('a=crypto AES_CM_128_HMAC_SHA1_80');
    await expect(invite.locator('[data-badge="3ge2ae"] text').textContent()).resolves.toBe('a=3ge2ae requested');
    await expect(ok.locator('[data-badge="crypto"] text').textContent()).resolves.toBe('a=crypto');
    for (const g of [invite, ok]) {
      // The badge is drawn, in the page, and its words fit in its pill.
      const [pill, words] = await Promise.all([g.locator('[data-badge="crypto"] rect').boundingBox(), g.locator('[data-badge="crypto"] text').boundingBox()]);
      expect(pill!.width).toBeGreaterThan(40);
      expect(words!.x + words!.width).toBeLessThanOrEqual(pill!.x + pill!.width);
    }
    for (const b of await ladder.locator('g.badge').all()) {
      const [pill, words] = await Promise.all([b.locator('rect').boundingBox(), b.locator('text').boundingBox()]);
      expect(words!.x + words!.width, await b.textContent() ?? '').toBeLessThanOrEqual(pill!.x + pill!.width);
    }
    // The KMS exchange of MIKEY-TICKET in the e2e call's ladder.
    await expect(page.locator('#s--e2e-mikey-ticket-call svg.ladder g.msg[data-first-line^="POST /mikey/request"] [data-badge="mikey-ticket"]').count()).resolves.toBe(1);
  });

  it('renders to screenshots that are not blank: the network of access-edge-protection has its colours where they belong', async () => {
    const top = join(SCREENSHOT_DIR, 'report-top.png');
    await page.screenshot({ path: top });
    const topImg = decodePng(readFileSync(top));
    expect(topImg.width).toBe(1280);
    expect(distinctColours(topImg)).toBeGreaterThan(50);

    const net = page.locator('#s--access-edge-protection svg.network');
    await net.scrollIntoViewIfNeeded();
    const file = join(SCREENSHOT_DIR, 'access-edge-protection-network.png');
    await net.screenshot({ path: file });
    const img = decodePng(readFileSync(file));
    expect(distinctColours(img)).toBeGreaterThan(20);
    const svgBox = (await net.boundingBox())!;
    // The protection pill of each band, left of its words: solid fill in the band's colour.
    for (const [link, cls] of [['access-a', 'e2ae'], ['core', 'none'], ['access-b', 'e2ae']] as const) {
      const pill = (await net.locator(`g.band[data-link="${link}"] rect[rx]`).boundingBox())!;
      expect(pixel(img, pill.x - svgBox.x + 6, pill.y - svgBox.y + pill.height / 2), link).toBe(PROTECTION_STYLE[cls].colour);
    }
    // Along the core media line, some pixels are the plaintext red (the line is dotted).
    const line = (await net.locator('line.media[data-link="core"]').first().boundingBox())!;
    const ys = line.y - svgBox.y + line.height / 2;
    const reds = Array.from({ length: 40 }, (_, i) => pixel(img, line.x - svgBox.x + 10 + i * ((line.width - 20) / 40), ys)).filter((p) => p === PROTECTION_STYLE.none.colour);
    expect(reds.length).toBeGreaterThan(5);

    const ladder = page.locator('#s--access-edge-protection .scroll[data-call]').first();
    await ladder.screenshot({ path: join(SCREENSHOT_DIR, 'access-edge-protection-ladder.png') });
    await page.locator('#s--e2e-mikey-ticket-call .scroll[data-call]').first().screenshot({ path: join(SCREENSHOT_DIR, 'e2e-mikey-ticket-call-ladder.png') });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'report-full.png'), fullPage: true });
    console.log(`screenshots in ${SCREENSHOT_DIR}`);
  });
});
