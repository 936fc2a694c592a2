import { Browser, expect, Page } from '@playwright/test';
import {
  test, PASSWORD, expectAccessible, hydrated, linkIn, readMail, screenshot, signUp, uniqueEmail, watchConsole,
} from './support';

const CUSTOMER_PASSWORD = 'amber-lantern-quietly';

/** A business with one customer whose type grants three portal permissions; ends on its Users tab. */
async function businessWithCustomer(page: Page, tag: string): Promise<string> {
  await signUp(page, { business: `Lumen ${tag} ${Date.now().toString(36)}`, name: 'Casey Admin', email: uniqueEmail(`cu-${tag}`) });
  await page.goto('/customer-types');
  await page.getByRole('link', { name: 'Standard' }).click();
  await hydrated(page);
  for (const feature of ['Create plant', 'Manage customer users', 'Edit customer profile']) {
    await page.getByRole('checkbox', { name: feature }).check();
  }
  await page.getByRole('button', { name: 'Save customer type' }).click();
  await expect(page.getByRole('row', { name: /Standard/ })).toContainText('Create plant');
  await page.goto('/customers/new');
  await hydrated(page);
  await page.getByLabel('Title', { exact: true }).fill('Sunfield Farm');
  await page.getByLabel('City', { exact: true }).fill('Utrecht');
  await page.getByRole('button', { name: 'Create customer' }).click();
  await expect(page.getByRole('status')).toContainText('The customer has been created.');
  await page.getByRole('link', { name: /^Users \(/ }).click();
  await hydrated(page);
  return page.url();
}

async function addCustomerUser(page: Page, email: string, first: string, method: 'Show activation link' | 'Send activation link by e-mail') {
  await page.getByRole('button', { name: 'Add customer user' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add customer user' });
  await dialog.getByLabel('E-mail', { exact: true }).fill(email);
  await dialog.getByLabel('First name').fill(first);
  await dialog.getByLabel('Last name').fill('Berg');
  await dialog.getByLabel('Phone').fill('+31 20 123 4567');
  await dialog.getByText(method).click();
  await expectAccessible(page);
  await dialog.getByRole('button', { name: 'Add customer user' }).click();
}

/** Opens `link` in a browser of its own and activates the account there. */
async function activateElsewhere(browser: Browser, link: string, shot?: string) {
  const context = await browser.newContext();
  const visitor = await context.newPage();
  const problems: string[] = [];
  watchConsole(visitor, problems);
  await visitor.goto(link);
  await hydrated(visitor);
  await expect(visitor.getByText('Sunfield Farm').first()).toBeVisible();
  await expectAccessible(visitor);
  if (shot) await screenshot(visitor, shot);
  await visitor.getByLabel('Password', { exact: true }).fill(CUSTOMER_PASSWORD);
  await visitor.getByLabel('Repeat password').fill(CUSTOMER_PASSWORD);
  await visitor.getByRole('button', { name: 'Activate and sign in' }).click();
  await expect(visitor.getByRole('heading', { level: 2, name: 'Your customer' })).toBeVisible();
  await hydrated(visitor);
  expect(problems).toEqual([]);
  return { context, visitor };
}

test('add a customer user with a shown link and activate it in a fresh browser', async ({ page, browser }) => {
  await businessWithCustomer(page, 'show');
  await expectAccessible(page);
  const email = uniqueEmail('lena');
  await addCustomerUser(page, email, 'Lena', 'Show activation link');
  const dialog = page.getByRole('dialog', { name: 'Activation link', exact: true });
  await expect(dialog).toContainText(`Give this link to ${email}`);
  const link = await dialog.getByLabel('Activation link').inputValue();
  expect(link).toContain('/activate?token=');
  await dialog.getByRole('button', { name: 'Copy link' }).click();
  await expect(dialog.getByRole('button', { name: 'Copied' })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'activation-link-dialog');
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByRole('row', { name: /Lena Berg/ })).toContainText('Awaiting activation');

  const { context, visitor } = await activateElsewhere(browser, link, 'activation');
  // The portal home: their customer and what its type allows, and no staff navigation.
  await expect(visitor.getByRole('region', { name: 'What you can do' })).toContainText('Create plant');
  await expect(visitor.getByRole('region', { name: 'What you can do' })).toContainText('Edit customer profile');
  await expect(visitor.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers', exact: true })).toHaveCount(0);
  await expectAccessible(visitor);
  await screenshot(visitor, 'portal-home');
  // "Edit customer profile" is granted, "Manage sub-customers" is not.
  await expect(visitor.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sub-customers' })).toHaveCount(0);
  await visitor.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customer profile' }).click();
  await hydrated(visitor);
  await visitor.getByLabel('City', { exact: true }).fill('Amersfoort');
  await visitor.getByRole('button', { name: 'Save changes' }).click();
  await expect(visitor.getByRole('status')).toContainText('The changes have been saved.');
  await expect(visitor.getByLabel('City', { exact: true })).toHaveValue('Amersfoort');
  await expectAccessible(visitor);
  await screenshot(visitor, 'portal-customer-profile');
  // Staff screens refuse them even by address.
  await visitor.goto('/customers');
  await expect(visitor.getByRole('alert')).toBeVisible();
  await expect(visitor.getByRole('link', { name: 'Sunfield Farm' })).toHaveCount(0);
  // The same link does not work twice.
  await visitor.goto(link);
  await expect(visitor.getByRole('heading', { name: 'This account is already active' })).toBeVisible();
  await context.close();

  await page.reload();
  await expect(page.getByRole('row', { name: /Lena Berg/ })).toContainText('Active');
  await hydrated(page);
  await expectAccessible(page);
  await screenshot(page, 'customer-users');
});

test('add a customer user by e-mail, activate from the mail, find it in the audit log', async ({ page, browser }) => {
  await businessWithCustomer(page, 'mail');
  const email = uniqueEmail('omar');
  await addCustomerUser(page, email, 'Omar', 'Send activation link by e-mail');
  await expect(page.getByRole('status').filter({ hasText: 'An activation link was e-mailed' })).toContainText(`An activation link was e-mailed to ${email}.`);
  const mail = await readMail(email, /Activate your .* account for Sunfield Farm/);
  const { context } = await activateElsewhere(browser, linkIn(mail.text, '/activate?token='));
  await context.close();

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  await hydrated(page);
  await page.getByLabel('Action').selectOption({ label: 'Customer user created' });
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/action=customer_user.created/);
  // The filtered list replaces the unfiltered one; the creation row names both action and address.
  const entry = page.getByRole('row').filter({ hasText: 'Customer user created' }).filter({ hasText: email });
  await expect(entry).toContainText('Customer user created');
  await expect(entry).toContainText('Sunfield Farm');
  await expectAccessible(page);
  await screenshot(page, 'audit-log');
});

test('disabling a customer user ends their session; a new link replaces the old one', async ({ page, browser }) => {
  await businessWithCustomer(page, 'disable');
  const email = uniqueEmail('ida');
  await addCustomerUser(page, email, 'Ida', 'Show activation link');
  const link = await page.getByRole('dialog', { name: 'Activation link', exact: true }).getByLabel('Activation link').inputValue();
  await page.getByRole('dialog', { name: 'Activation link', exact: true }).getByRole('button', { name: 'Done' }).click();
  // A new link: the first one stops working.
  await page.getByRole('button', { name: 'New link for Ida Berg' }).click();
  await page.getByRole('dialog', { name: 'New activation link' }).getByRole('button', { name: 'Make new link' }).click();
  const fresh = await page.getByRole('dialog', { name: 'Activation link', exact: true }).getByLabel('Activation link').inputValue();
  expect(fresh).not.toEqual(link);
  await page.getByRole('dialog', { name: 'Activation link', exact: true }).getByRole('button', { name: 'Done' }).click();
  const stale = await browser.newContext();
  const stalePage = await stale.newPage();
  await stalePage.goto(link);
  await expect(stalePage.getByRole('heading', { name: 'This activation link no longer works' })).toBeVisible();
  await stale.close();

  const { context, visitor } = await activateElsewhere(browser, fresh);
  await page.getByRole('button', { name: 'Disable Ida Berg' }).click();
  await expect(page.getByRole('row', { name: /Ida Berg/ })).toContainText('Disabled');
  await visitor.reload();
  await expect(visitor).toHaveURL(/\/sign-in/);
  await context.close();
  await page.getByRole('button', { name: 'Enable Ida Berg' }).click();
  await expect(page.getByRole('row', { name: /Ida Berg/ })).toContainText('Active');
});

test('a customer user can be edited and deleted', async ({ page }) => {
  await businessWithCustomer(page, 'edit');
  const email = uniqueEmail('noa');
  await addCustomerUser(page, email, 'Noa', 'Send activation link by e-mail');
  await expect(page.getByRole('row', { name: /Noa Berg/ })).toBeVisible();
  await page.getByRole('button', { name: 'Edit Noa Berg' }).click();
  const dialog = page.getByRole('dialog', { name: 'Edit customer user' });
  await dialog.getByLabel('Phone').fill('12');
  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await expect(dialog.getByText('Enter the number in international form')).toBeVisible();
  await dialog.getByLabel('Phone').fill('+31 6 1234 5678');
  await dialog.getByLabel('Last name').fill('Visser');
  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('row', { name: /Noa Visser/ })).toContainText('+31612345678');
  await page.getByRole('button', { name: 'Delete Noa Visser' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete Noa Visser?' });
  await expect(confirm).toContainText('This cannot be undone.');
  await confirm.getByRole('button', { name: 'Delete user' }).click();
  await expect(page.getByText('No customer users yet.')).toBeVisible();
});

test('a customer user whose type grants it adds a colleague; without it the screen is closed', async ({ page, browser }) => {
  await businessWithCustomer(page, 'portal');
  const lead = uniqueEmail('lead');
  await addCustomerUser(page, lead, 'Lea', 'Show activation link');
  const link = await page.getByRole('dialog', { name: 'Activation link', exact: true }).getByLabel('Activation link').inputValue();
  await page.getByRole('dialog', { name: 'Activation link', exact: true }).getByRole('button', { name: 'Done' }).click();
  const { context, visitor } = await activateElsewhere(browser, link);

  // The type grants "Manage customer users": the portal offers the screen.
  await visitor.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customer users' }).click();
  await expect(visitor.getByRole('heading', { level: 1, name: 'Customer users' })).toBeVisible();
  await hydrated(visitor);
  await expect(visitor.getByRole('row', { name: /Lea Berg/ })).toContainText('(you)');
  await visitor.getByRole('button', { name: 'Add customer user' }).click();
  const dialog = visitor.getByRole('dialog', { name: 'Add customer user' });
  await dialog.getByLabel('E-mail', { exact: true }).fill(uniqueEmail('colleague'));
  await dialog.getByLabel('First name').fill('Cole');
  await dialog.getByLabel('Last name').fill('Mate');
  await expectAccessible(visitor);
  await dialog.getByRole('button', { name: 'Add customer user' }).click();
  await expect(visitor.getByRole('row', { name: /Cole Mate/ })).toContainText('Awaiting activation');
  await expect(visitor.getByRole('row', { name: /Cole Mate/ })).toContainText('Sunfield Farm');
  await screenshot(visitor, 'portal-customer-users');
  await visitor.getByRole('button', { name: 'Delete Cole Mate' }).click();
  const confirm = visitor.getByRole('dialog', { name: 'Delete Cole Mate?' });
  await expect(confirm).toContainText('This cannot be undone.');
  await confirm.getByRole('button', { name: 'Delete user' }).click();
  await expect(visitor.getByRole('row', { name: /Cole Mate/ })).toHaveCount(0);

  // The administrator takes the permission away (and grants sub-customers instead): the screen
  // disappears and the server refuses.
  await page.goto('/customer-types');
  await page.getByRole('link', { name: 'Standard' }).click();
  await hydrated(page);
  await page.getByRole('checkbox', { name: 'Manage customer users' }).uncheck();
  await page.getByRole('checkbox', { name: 'Manage sub-customers' }).check();
  await page.getByRole('button', { name: 'Save customer type' }).click();
  await expect(page.getByRole('row', { name: /Standard/ })).not.toContainText('Manage customer users');
  await visitor.goto('/');
  await hydrated(visitor);
  await expect(visitor.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customer users' })).toHaveCount(0);
  const refused = await visitor.request.post('/api/portal_users', { headers: { Origin: new URL(visitor.url()).origin } });
  expect(refused.status()).toBe(403);
  await visitor.goto('/portal/users');
  await expect(visitor.getByRole('alert')).toBeVisible();

  // Manage sub-customers: add one under their customer.
  await visitor.goto('/');
  await visitor.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sub-customers' }).click();
  await expect(visitor.getByRole('heading', { level: 1, name: 'Sub-customers' })).toBeVisible();
  await hydrated(visitor);
  await visitor.getByLabel('Title', { exact: true }).fill('Sunfield North');
  await visitor.getByLabel('City', { exact: true }).fill('Zwolle');
  await visitor.getByRole('button', { name: 'Add sub-customer' }).click();
  await expect(visitor.getByRole('row', { name: /Sunfield North/ })).toContainText('Sunfield Farm');
  // A title some customer of the provider has already gets a number, never a refusal.
  await visitor.getByLabel('Title', { exact: true }).fill('Sunfield North');
  await visitor.getByRole('button', { name: 'Add sub-customer' }).click();
  await expect(visitor.getByRole('status')).toContainText('added as Sunfield North (2)');
  await expect(visitor.getByRole('row', { name: /Sunfield North \(2\)/ })).toBeVisible();
  await expectAccessible(visitor);
  await screenshot(visitor, 'portal-sub-customers');
  await context.close();
});

test('import customer users from a file: dry run, e-mailed activation links, one activates', async ({ page, browser }) => {
  const usersTab = await businessWithCustomer(page, 'import');
  await page.getByRole('link', { name: 'Import CSV' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Import customer users' })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'What the file holds' }).getByRole('link', { name: 'Customer users' })).toHaveAttribute('aria-current', 'page');
  await hydrated(page);
  await expectAccessible(page);

  const noor = uniqueEmail('noor');
  const bram = uniqueEmail('bram');
  const lines = [
    'Customer,First name,Last name,E-mail,Phone',
    `Sunfield Farm,Noor,Visser,${noor},+31 20 123 4567`,
    `sunfield farm,Bram,de Wit,${bram},`,
    `Nowhere BV,Nina,Nobody,${uniqueEmail('nina')},`,
    'Sunfield Farm,Bad,Mail,not-an-address,',
  ];
  await page.getByLabel('CSV file').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n'), 'utf8') });
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Import people.csv' })).toBeVisible();
  await hydrated(page);
  await expect(page.getByLabel('Customer', { exact: true })).toHaveValue('0');
  await expect(page.getByLabel('E-mail', { exact: true })).toHaveValue('3');
  await expect(page.getByLabel('Description', { exact: true })).toHaveValue('');
  await expect(page.getByRole('checkbox', { name: 'E-mail each new user their activation link' })).toBeChecked();
  await expectAccessible(page);
  await screenshot(page, 'import-users-columns');

  await page.getByRole('button', { name: 'Check the file' }).click();
  await expect(page.getByRole('link', { name: 'Create (2)' })).toBeVisible();
  await page.getByRole('link', { name: 'Errors (2)' }).click();
  const fileRows = page.getByRole('table', { name: 'Rows of the file' });
  await expect(fileRows.getByRole('row', { name: /not-an-address/ })).toContainText('E-mail');
  await expect(fileRows.getByRole('row', { name: /nina/ })).toContainText('No customer you manage is called “Nowhere BV”.');
  await hydrated(page);
  await expectAccessible(page);
  await screenshot(page, 'import-users-dry-run');

  await page.getByLabel('Import the valid rows only').check();
  await page.getByRole('button', { name: 'Check the file' }).click();
  await page.getByRole('button', { name: 'Import 2 users' }).click();
  await expect(page.getByText('Imported: 2 customer users added (each was e-mailed an activation link), 0 updated, 0 rows skipped, 2 rows with errors not imported.'))
    .toBeVisible({ timeout: 30_000 });
  await hydrated(page);
  await expectAccessible(page);
  await screenshot(page, 'import-users-done');

  // Each new user has their link by e-mail; Noor activates with hers.
  const mail = await readMail(noor, /Activate your .* account for Sunfield Farm/);
  await readMail(bram, /Activate your .* account for Sunfield Farm/);
  const { context } = await activateElsewhere(browser, linkIn(mail.text, '/activate?token='));
  await context.close();
  await page.goto(usersTab);
  await expect(page.getByRole('row', { name: /Noor Visser/ })).toContainText('Active');
  await expect(page.getByRole('row', { name: /Bram de Wit/ })).toContainText('Awaiting activation');
});
