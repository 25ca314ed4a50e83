import 'reflect-metadata';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { AppModule } from '../../sample/app.module.js';

/**
 * The sample app in a real browser: headless Chromium from Debian's `chromium` package (no browser
 * download), walking both login flows the way a person would, one screenshot per step.
 */

const CHROMIUM_PATH = '/usr/bin/chromium';
const IN_CI = !['', '0', 'false'].includes((process.env.CI ?? '').toLowerCase());
const HAVE_CHROMIUM = existsSync(CHROMIUM_PATH);
const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), '.screenshots');

// CI must never pass by skipping: without the browser the suite runs and beforeAll fails it.
const describeInBrowser = HAVE_CHROMIUM || IN_CI ? describe : describe.skip;
if (!HAVE_CHROMIUM && !IN_CI) {
  console.warn(
    `\n*** SKIPPING the browser test: ${CHROMIUM_PATH} is missing. ` +
      'Install it with `apt-get install -y --no-install-recommends chromium` (CI fails without it). ***\n',
  );
}

/** Starts a server on a free port of 127.0.0.1 and answers its origin. */
async function listenOnFreePort(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describeInBrowser('sample app in headless Chromium (memory store)', () => {
  let app: INestApplication;
  let appOrigin: string;
  /** Another origin (same host, other port: same-site, so the SameSite=Lax cookie still goes along). */
  let evilServer: Server;
  let evilOrigin: string;
  let browser: Browser;
  const storeBefore = process.env.SESSION_STORE;
  let screenshotCount = 0;

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) {
      throw new Error(
        `${CHROMIUM_PATH} is missing and CI is set: install Debian's chromium package ` +
          '(apt-get install -y --no-install-recommends chromium).',
      );
    }
    rmSync(SCREENSHOTS, { recursive: true, force: true });
    mkdirSync(SCREENSHOTS, { recursive: true });

    process.env.SESSION_STORE = 'memory';
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    appOrigin = await listenOnFreePort(app.getHttpServer() as Server);

    // The attacker's page: a harmless-looking button that posts the password form to the sample.
    evilServer = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>Win a prize</title><h1>You won!</h1>
<form method="post" action="${appOrigin}/passport/password">
  <input type="hidden" name="password" value="owned-by-evil">
  <button>Claim your prize</button>
</form>`);
    });
    evilOrigin = await listenOnFreePort(evilServer);

    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
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
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (evilServer ? evilServer.close(resolve) : resolve(undefined)));
    await app?.close();
    if (storeBefore === undefined) delete process.env.SESSION_STORE;
    else process.env.SESSION_STORE = storeBefore;
  });

  /** A fresh browser profile (its own cookie jar): one device. */
  async function newDevice(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ baseURL: appOrigin });
    return { context, page: await context.newPage() };
  }

  /** Saves the page as `NN-step.png`, numbered in walking order. */
  async function screenshot(page: Page, step: string): Promise<void> {
    screenshotCount += 1;
    const name = `${String(screenshotCount).padStart(2, '0')}-${step}.png`;
    await page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
  }

  /** Runs `action` (a click that submits a form or follows a link) and waits for the next page to load. */
  async function andWaitForPage(page: Page, action: () => Promise<unknown>): Promise<void> {
    const loaded = page.waitForEvent('load');
    await action();
    await loaded;
  }

  /** The path and query of the page the browser shows (after every redirect). */
  const pathOf = (page: Page): string => {
    const url = new URL(page.url());
    return url.pathname + url.search;
  };

  const heading = (page: Page): Promise<string | null> => page.locator('h1').textContent();
  const flashes = (page: Page): Promise<string[]> => page.locator('p.flash').allTextContents();

  it('classic flow: home, login required, sign in, profile, your sessions, log out', async () => {
    const { context, page } = await newDevice();

    await page.goto('/');
    expect(await heading(page)).toBe('nest-session sample');
    await expect(page.getByText('The session is empty.').isVisible()).resolves.toBe(true);
    await expect(page.getByText('Not logged in.').isVisible()).resolves.toBe(true);
    await screenshot(page, 'classic-home');

    // The profile needs a login: the guard sends the browser to the form, remembering where it was going.
    await andWaitForPage(page, () =>
      page.getByRole('link', { name: 'Profile', exact: true }).click(),
    );
    expect(pathOf(page)).toBe('/login?next=%2Fprofile');
    expect(await heading(page)).toBe('Log in');
    await screenshot(page, 'classic-login-form');

    await page.getByLabel('Password').fill('not-the-password');
    await andWaitForPage(page, () => page.getByRole('button', { name: 'Log in' }).click());
    expect(await page.getByRole('alert').textContent()).toBe('Invalid username or password.');
    await screenshot(page, 'classic-login-wrong-password');

    await page.getByLabel('Username').fill('antone');
    await page.getByLabel('Password').fill('secret');
    await andWaitForPage(page, () => page.getByRole('button', { name: 'Log in' }).click());
    expect(pathOf(page)).toBe('/profile');
    expect(await page.locator('p', { hasText: 'Logged in as' }).textContent()).toContain(
      'Logged in as antone (antone@example.com)',
    );
    await screenshot(page, 'classic-profile');

    await andWaitForPage(page, () => page.getByRole('link', { name: 'Home' }).click());
    expect(pathOf(page)).toBe('/');
    expect(await page.locator('p', { hasText: 'Logged in as' }).textContent()).toContain(
      'Logged in as antone.',
    );
    expect(await page.locator('#session-contents').textContent()).toContain('"antone"');
    await screenshot(page, 'classic-home-signed-in');

    await andWaitForPage(page, () => page.getByRole('link', { name: 'Your sessions' }).click());
    expect(await heading(page)).toBe('Your sessions');
    expect(await page.locator('.this-device').textContent()).toBe('This device');
    expect(await page.locator('#session-events').textContent()).toContain('signed in');
    await screenshot(page, 'classic-your-sessions');

    const signedInCookies = await context.cookies();
    await andWaitForPage(page, () => page.getByRole('link', { name: 'Home' }).click());
    await andWaitForPage(page, () => page.getByRole('button', { name: 'Log out' }).click());
    expect(pathOf(page)).toBe('/');
    await expect(page.getByText('Not logged in.').isVisible()).resolves.toBe(true);
    await screenshot(page, 'classic-logged-out');

    // The cookie from before the logout, replayed by another browser, opens nothing.
    const replay = await newDevice();
    await replay.context.addCookies(signedInCookies);
    await replay.page.goto('/profile');
    expect(pathOf(replay.page)).toBe('/login?next=%2Fprofile');
    await screenshot(replay.page, 'classic-old-cookie-dead');

    await replay.context.close();
    await context.close();
  }, 30_000);

  it('seed operations: a button answers with a page that says what happened and leads back home', async () => {
    const { context, page } = await newDevice();
    const status = (): Promise<string | null> => page.getByRole('status').textContent();

    await page.goto('/');
    await andWaitForPage(page, () =>
      page.getByRole('button', { name: '1. Set username and email' }).click(),
    );
    expect(pathOf(page)).toBe('/session/set');
    expect(await heading(page)).toBe('1. Set username and email');
    expect(await status()).toBe('Session data has been set!');
    await screenshot(page, 'seed-set');

    // The next operation is a button on this page too.
    await andWaitForPage(page, () =>
      page.getByRole('button', { name: '2. Get them (with defaults)' }).click(),
    );
    expect(pathOf(page)).toBe('/session/get');
    expect(await status()).toBe('Username: antone, Email: antone@example.com');
    await screenshot(page, 'seed-get');

    await andWaitForPage(page, () => page.getByRole('link', { name: 'Home' }).click());
    expect(pathOf(page)).toBe('/');
    expect(await page.locator('#session-contents').textContent()).toContain('"antone@example.com"');

    await andWaitForPage(page, () =>
      page.getByRole('button', { name: '7. Clear all data' }).click(),
    );
    expect(await status()).toBe('All session data has been cleared.');
    await andWaitForPage(page, () => page.getByRole('link', { name: 'Home' }).click());
    await expect(page.getByText('The session is empty.').isVisible()).resolves.toBe(true);
    await screenshot(page, 'seed-home-after-clear');

    await context.close();
  }, 30_000);

  it('passport flow: flash once, CSRF, password change signs out the other device, logout', async () => {
    const laptop = await newDevice();
    const phone = await newDevice();
    const { page } = laptop;

    await page.goto('/');
    await andWaitForPage(page, () =>
      page.getByRole('link', { name: 'log in with passport-local' }).click(),
    );
    expect(pathOf(page)).toBe('/passport/login');
    expect(await heading(page)).toBe('Log in (passport-local)');
    expect(await flashes(page)).toEqual([]);
    await screenshot(page, 'passport-login-form');

    await page.getByLabel('Username').fill('antone');
    await page.getByLabel('Password').fill('secret');
    await andWaitForPage(page, () => page.getByRole('button', { name: 'Log in' }).click());
    expect(pathOf(page)).toBe('/passport/account');
    expect(await page.locator('#user').textContent()).toBe('antone');
    expect(await flashes(page)).toEqual(['Signed in as antone.']);
    await screenshot(page, 'passport-account-flash');

    // The flash is shown once: gone on the next load.
    await page.reload();
    expect(await flashes(page)).toEqual([]);
    expect(await page.locator('#user').textContent()).toBe('antone');
    await screenshot(page, 'passport-account-reloaded');

    // One login state everywhere: the home page knows about the passport sign-in, and links back.
    await andWaitForPage(page, () => page.getByRole('link', { name: 'Home' }).click());
    expect(pathOf(page)).toBe('/');
    expect(
      await page.locator('p', { hasText: 'Signed in with passport as' }).textContent(),
    ).toContain('Signed in with passport as antone.');
    await screenshot(page, 'passport-home-signed-in');
    await andWaitForPage(page, () => page.getByRole('link', { name: 'Account' }).click());
    expect(pathOf(page)).toBe('/passport/account');
    expect(await flashes(page)).toEqual([]);

    // A CSRF-protected form posted from the page goes through (this one is refused by validation).
    await page.getByLabel('New password').fill('abc');
    await andWaitForPage(page, () => page.getByRole('button', { name: 'Change password' }).click());
    expect(pathOf(page)).toBe('/passport/account');
    expect(await flashes(page)).toEqual(['Choose a password of at least 4 characters.']);
    await screenshot(page, 'passport-form-post-accepted');

    // The same post without the token, from a script on the page: refused.
    const tokenlessStatus = await page.evaluate(async () => {
      const res = await fetch('/passport/password', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'password=no-token-given',
      });
      return res.status;
    });
    expect(tokenlessStatus).toBe(403);

    // A page on another origin posts the form to the sample with the user's cookie: refused.
    const evil = await laptop.context.newPage();
    await evil.goto(evilOrigin);
    const refusedPost = evil.waitForResponse(`${appOrigin}/passport/password`);
    await andWaitForPage(evil, () =>
      evil.getByRole('button', { name: 'Claim your prize' }).click(),
    );
    expect((await refusedPost).status()).toBe(403);
    expect(evil.url()).toBe(`${appOrigin}/passport/password`);
    expect(await heading(evil)).toBe('Forbidden (403)');
    expect(await evil.getByRole('alert').textContent()).toContain('CSRF origin check failed');
    await screenshot(evil, 'passport-cross-site-post-refused');
    // The refusal page leads back; the password is unchanged (the phone signs in with it below).
    await andWaitForPage(evil, () =>
      evil.getByRole('link', { name: 'Back to your account' }).click(),
    );
    expect(pathOf(evil)).toBe('/passport/account');
    await evil.close();

    // The phone signs in as the same user, with the unchanged password.
    await phone.page.goto('/passport/login');
    await phone.page.getByLabel('Password').fill('secret');
    await andWaitForPage(phone.page, () =>
      phone.page.getByRole('button', { name: 'Log in' }).click(),
    );
    expect(pathOf(phone.page)).toBe('/passport/account');
    expect(await phone.page.locator('#user').textContent()).toBe('antone');
    await screenshot(phone.page, 'passport-phone-signed-in');

    // The laptop changes the password: it stays signed in, the phone is signed out.
    await page.getByLabel('New password').fill('a-new-secret');
    await andWaitForPage(page, () => page.getByRole('button', { name: 'Change password' }).click());
    expect(pathOf(page)).toBe('/passport/account');
    expect(await flashes(page)).toEqual(['Password changed. Your other devices were signed out.']);
    expect(await page.locator('#user').textContent()).toBe('antone');
    await screenshot(page, 'passport-password-changed');

    await phone.page.reload();
    expect(pathOf(phone.page)).toBe('/passport/login');
    expect(await heading(phone.page)).toBe('Log in (passport-local)');
    await screenshot(phone.page, 'passport-phone-signed-out');

    const signedInCookies = await laptop.context.cookies();
    await andWaitForPage(page, () => page.getByRole('button', { name: 'Log out' }).click());
    expect(pathOf(page)).toBe('/passport/login');
    expect(await flashes(page)).toEqual(['Signed out.']);
    await screenshot(page, 'passport-logged-out-flash');
    await page.reload();
    expect(await flashes(page)).toEqual([]);
    await page.goto('/');
    await expect(page.getByText('Not logged in.').isVisible()).resolves.toBe(true);

    // The laptop's cookie from before the logout opens nothing any more.
    const replay = await newDevice();
    await replay.context.addCookies(signedInCookies);
    await replay.page.goto('/passport/account');
    expect(pathOf(replay.page)).toBe('/passport/login');
    await screenshot(replay.page, 'passport-old-cookie-dead');

    // The new password is the one that works now.
    await replay.page.getByLabel('Password').fill('a-new-secret');
    await andWaitForPage(replay.page, () =>
      replay.page.getByRole('button', { name: 'Log in' }).click(),
    );
    expect(pathOf(replay.page)).toBe('/passport/account');
    expect(await flashes(replay.page)).toEqual(['Signed in as antone.']);

    await replay.context.close();
    await phone.context.close();
    await laptop.context.close();
  }, 30_000);
});
