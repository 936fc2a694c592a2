import { test as base, expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import * as fs from 'fs';
import * as path from 'path';

export const PASSWORD = 'violet-kettle-onward';

/** Every page reports WebAssembly panics and hydration errors from the browser console as test failures. */
export function watchConsole(page: Page, problems: string[]) {
  page.on('console', (message) => {
    const text = message.text();
    if (message.type() === 'error' && /panicked|hydration error/i.test(text)) problems.push(`${page.url()}: ${text.slice(0, 600)}`);
  });
  page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
}

export const test = base.extend<{ consoleProblems: string[] }>({
  consoleProblems: [async ({}, use) => { await use([]); }, { scope: 'test' }],
  page: async ({ page, consoleProblems }, use) => {
    watchConsole(page, consoleProblems);
    await use(page);
    expect(consoleProblems, 'errors in the browser console').toEqual([]);
  },
  context: async ({ context, consoleProblems }, use) => {
    context.on('page', (p) => watchConsole(p, consoleProblems));
    await use(context);
  },
});
const MAILDEV = process.env.ROSTER_E2E_MAILDEV ?? 'http://127.0.0.1:1080';

/** A fresh address for each test, so tests never share a user. */
export function uniqueEmail(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}@example.test`;
}

/** Waits until the WebAssembly has taken over the server-rendered page. */
export async function hydrated(page: Page): Promise<void> {
  await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 30_000 });
}

/** Fills in and sends the sign-up form; the page then answers "check your inbox", whatever the address. */
export async function requestSignUp(page: Page, opts: { business: string; name: string; email: string; password?: string }) {
  await page.goto('/sign-up');
  await hydrated(page);
  await page.getByLabel('Business name').fill(opts.business);
  await page.getByLabel('Your name').fill(opts.name);
  await page.getByLabel('Work e-mail').fill(opts.email);
  await page.getByLabel('Password', { exact: true }).fill(opts.password ?? PASSWORD);
  await page.getByLabel('Repeat password').fill(opts.password ?? PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('status')).toContainText('Check your inbox');
}

/** Signs up a business account and confirms it from the e-mailed link: the page ends signed in, at the overview. */
export async function signUp(page: Page, opts: { business: string; name: string; email: string; password?: string }) {
  await requestSignUp(page, opts);
  const mail = await readMail(opts.email, /Confirm your e-mail address to create/);
  await page.goto(linkIn(mail.text, '/confirm-email?token='));
  await hydrated(page);
  await page.getByRole('button', { name: 'Confirm my e-mail address' }).click();
  await expect(page.getByRole('heading', { level: 1, name: /^Welcome,/ })).toBeVisible();
  await hydrated(page);
}

export async function signIn(page: Page, email: string, password: string) {
  await page.goto('/sign-in');
  await hydrated(page);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function openUserMenu(page: Page) {
  await page.locator('details.user-menu > summary').click();
}

export async function signOut(page: Page) {
  await openUserMenu(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
}

/** No serious or critical accessibility violations on the current page. */
export async function expectAccessible(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(
    serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
    `accessibility violations on ${page.url()}`,
  ).toEqual([]);
}

/** Saves a full-page screenshot under end2end/screenshots for a person to look at. */
export async function screenshot(page: Page, name: string) {
  const dir = path.join(__dirname, '..', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

interface Mail {
  subject: string;
  text: string;
  to: { address: string }[];
  time: string;
}

/** The newest message to `to` whose subject matches, read back from the SMTP catcher. */
export async function readMail(to: string, subject: RegExp): Promise<Mail> {
  let found: Mail | undefined;
  await expect
    .poll(
      async () => {
        const res = await fetch(`${MAILDEV}/api/email`);
        const all = (await res.json()) as Mail[];
        found = all
          .filter((m) => m.to.some((t) => t.address.toLowerCase() === to.toLowerCase()) && subject.test(m.subject))
          .sort((a, b) => Date.parse(b.time) - Date.parse(a.time))[0];
        return found !== undefined;
      },
      { timeout: 20_000, message: `mail to ${to} matching ${subject}` },
    )
    .toBe(true);
  return found!;
}

export function linkIn(text: string, pathPrefix: string): string {
  const match = text.match(new RegExp(`https?://\\S+${pathPrefix.replace(/[/?]/g, '\\$&')}\\S*`));
  if (!match) throw new Error(`no ${pathPrefix} link in:\n${text}`);
  return match[0];
}
