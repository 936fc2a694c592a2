import { expect } from '@playwright/test';
import { test, expectAccessible, hydrated, screenshot, signUp, uniqueEmail } from './support';

test('an Administrator makes an API key, calls the REST API with it, and revokes it', async ({ page, request }) => {
  await signUp(page, { business: `Api ${Date.now().toString(36)}`, name: 'Ivy Integrator', email: uniqueEmail('api') });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'API' })).toBeVisible();
  await hydrated(page);
  await expect(page.getByText('No API keys yet.')).toBeVisible();
  // The operations come from the OpenAPI document.
  const operations = page.getByRole('table', { name: 'Operations of the REST API' });
  await expect(operations.getByRole('rowheader', { name: '/api/v1/customers', exact: true }).first()).toBeVisible();

  await page.getByRole('button', { name: 'New API key' }).click();
  const dialog = page.getByRole('dialog', { name: 'New API key' });
  await dialog.getByLabel('Key name').fill('CRM sync');
  await dialog.getByLabel('Expires').selectOption('30');
  const customers = dialog.getByRole('group', { name: 'Customers' });
  await customers.getByRole('checkbox', { name: 'View' }).check();
  await customers.getByRole('checkbox', { name: 'Create' }).check();
  await dialog.getByRole('button', { name: 'Create key' }).click();

  // Shown once.
  const secretBox = page.getByLabel('Your new API key');
  await expect(secretBox).toHaveValue(/^roster_/);
  const secret = await secretBox.inputValue();
  await expectAccessible(page);
  await screenshot(page, 'api-key-created');
  await page.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByLabel('Your new API key')).toHaveCount(0);
  await page.reload();
  await hydrated(page);
  expect(await page.content()).not.toContain(secret);
  const keys = page.getByRole('table', { name: 'API keys' });
  await expect(keys.getByRole('row', { name: /CRM sync/ })).toContainText('Active');
  await expect(keys.getByRole('row', { name: /CRM sync/ })).toContainText('Never');

  // A webhook for new customers: its signing secret is shown once.
  await page.getByRole('button', { name: 'New webhook' }).click();
  const hookDialog = page.getByRole('dialog', { name: 'New webhook' });
  await hookDialog.getByLabel('Endpoint URL').fill('http://127.0.0.1:9/roster-events');
  await hookDialog.getByRole('checkbox', { name: 'Customer created' }).check();
  await hookDialog.getByRole('button', { name: 'Add webhook' }).click();
  await expect(page.getByLabel('Signing secret')).toHaveValue(/^whsec_/);
  await page.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByRole('table', { name: 'Webhooks' })).toContainText('http://127.0.0.1:9/roster-events');

  // The key works from outside the browser: no cookie, just the bearer token.
  const auth = { Authorization: `Bearer ${secret}` };
  const types = await request.get('/api/v1/customer-types', { headers: auth });
  expect(types.status()).toBe(403);
  const listed = await request.get('/api/v1/customers', { headers: auth });
  expect(listed.status()).toBe(200);
  const spec = await (await request.get('/api/v1/openapi.json')).json();
  expect(spec.openapi).toMatch(/^3\.1/);
  const choices = await request.get('/api/v1/customers?limit=10', { headers: auth });
  expect((await choices.json()).total.kind).toBe('exact');
  await page.goto('/customers/new');
  await hydrated(page);
  const typeId = await page.getByLabel('Customer type').inputValue();
  const ownerId = await page.getByLabel('Owner company').inputValue();
  const created = await request.post('/api/v1/customers', {
    headers: auth,
    data: { title: 'Made by the API', city: 'Durban', customer_type_id: Number(typeId), owner_company_id: Number(ownerId) },
  });
  expect(created.status()).toBe(201);
  expect(created.headers()['location']).toMatch(/^\/api\/v1\/customers\/\d+$/);
  await page.goto('/customers');
  await hydrated(page);
  await expect(page.getByRole('link', { name: 'Made by the API' })).toBeVisible();

  // The audit log names the key; the list shows it was used.
  await page.goto('/audit');
  await hydrated(page);
  await expect(page.getByText('(API key “CRM sync”)').first()).toBeVisible();
  await page.goto('/api-keys');
  await hydrated(page);
  await expect(keys.getByRole('row', { name: /CRM sync/ })).not.toContainText('Never');

  // The new customer was an event; this server refuses loopback targets, and the log says so.
  await expect(async () => {
    await page.reload();
    await hydrated(page);
    const log = page.getByRole('table', { name: 'Recent webhook deliveries' });
    await expect(log.getByRole('row', { name: /customer\.created/ })).toContainText('loopback, private or link-local', { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await screenshot(page, 'api-webhooks');

  // Revoked: refused at once.
  await keys.getByRole('button', { name: 'Revoke CRM sync' }).click();
  await page.getByRole('dialog', { name: 'Revoke the key CRM sync?' }).getByRole('button', { name: 'Revoke key' }).click();
  await expect(keys.getByRole('row', { name: /CRM sync/ })).toContainText('Revoked');
  const refused = await request.get('/api/v1/customers', { headers: auth });
  expect(refused.status()).toBe(401);
  expect(refused.headers()['content-type']).toBe('application/problem+json');
  await expectAccessible(page);
  await screenshot(page, 'api');
});
