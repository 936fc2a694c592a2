import { expect, Page } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as path from 'path';
import { test, expectAccessible, hydrated, screenshot, signUp, uniqueEmail } from './support';

/** Runs the operator's command line on the journeys' database, as the operator would. */
function roster(args: string[]): string {
  const bin = process.env.ROSTER_E2E_BIN ?? path.join(__dirname, '..', '..', 'target', 'release', 'roster');
  return execFileSync(bin, args, {
    env: { ...process.env, DATABASE_URL: process.env.ROSTER_E2E_DATABASE_URL, RUST_LOG: 'error' },
    stdio: 'pipe',
  }).toString();
}

async function createCustomer(page: Page, title: string) {
  await page.goto('/customers/new');
  await hydrated(page);
  await page.getByLabel('Title', { exact: true }).fill(title);
  await page.getByRole('button', { name: 'Create customer' }).click();
}

test('an Administrator sees Billing with usage bars and hits a limit the operator set', async ({ page }) => {
  const business = `Billing ${Date.now().toString(36)}`;
  await signUp(page, { business, name: 'Casey Admin', email: uniqueEmail('bill') });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Billing' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Billing' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Plan: Standard' })).toBeVisible();
  await expect(page.getByText('Unlimited', { exact: true })).toHaveCount(4);

  const out = roster(['limits', '--account', business, '--plan', 'Starter', '--customers', '1', '--staff-users', '5',
    '--customer-users', '10', '--emails-per-month', '100']);
  expect(out).toContain('Starter');
  await page.reload();
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Plan: Starter' })).toBeVisible();
  await expect(page.getByRole('meter', { name: 'Customers' })).toHaveAttribute('aria-valuenow', '0');
  await expect(page.getByRole('meter', { name: 'Staff users' })).toHaveAttribute('aria-valuenow', '20');

  // The first customer fits; the second is refused, naming the limit and the usage.
  await createCustomer(page, 'Only Solar');
  await expect(page.getByRole('status')).toContainText('The customer has been created.');
  await createCustomer(page, 'One Too Many');
  await expect(page.getByRole('alert')).toContainText('Your plan allows 1 customer; you have 1.');
  await page.goto('/billing');
  await hydrated(page);
  const customers = page.getByRole('meter', { name: 'Customers' });
  await expect(customers).toHaveAttribute('aria-valuenow', '100');
  await expect(customers).toHaveAttribute('aria-valuetext', /1 of 1/);

  // The billing contact hears about usage.
  await page.getByLabel('Billing contact e-mail').fill('accounts@billing.test');
  await page.getByRole('button', { name: 'Save billing contact' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'The billing contact has been saved.' })).toBeVisible();
  await expect(page.getByRole('figure', { name: /last 30 days/ })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'billing');

  // The Overview at a glance: counts and the 30-day chart.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
  await expect(page.getByRole('heading', { level: 1, name: /^Welcome,/ })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Account at a glance' })).toContainText('Customers');
  await expect(page.getByRole('figure', { name: 'New customers, sign-ins and e-mails, last 30 days' })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'overview');
});
