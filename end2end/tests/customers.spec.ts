import { expect, Page } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as path from 'path';
import {
  test, PASSWORD, expectAccessible, watchConsole, hydrated, linkIn, readMail, screenshot, signIn, signUp, uniqueEmail,
} from './support';

/** Adds generated customers with the CLI (`roster seed`), as a tester preparing data would. */
function seed(account: string, count: number) {
  const bin = process.env.ROSTER_E2E_BIN ?? path.join(__dirname, '..', '..', 'target', 'release', 'roster');
  execFileSync(bin, ['seed', '--account', account, '--customers', String(count)], {
    env: { ...process.env, DATABASE_URL: process.env.ROSTER_E2E_DATABASE_URL, RUST_LOG: 'error' },
    stdio: 'pipe',
  });
}

async function business(page: Page, tag: string) {
  const name = `Helios ${tag} ${Date.now().toString(36)}`;
  await signUp(page, { business: name, name: 'Casey Admin', email: uniqueEmail(`cust-${tag}`) });
  return name;
}

/** On the registration page: creates a personal account and confirms it from the e-mail, as a
 * person who registers on their own does; `check` runs on each page once it is ready. */
async function registerPerson(visitor: Page, name: string, email: string, check: (page: Page) => Promise<void> = async () => {}) {
  await hydrated(visitor);
  await check(visitor);
  await visitor.getByLabel('Your name').fill(name);
  await visitor.getByLabel('E-mail').fill(email);
  await visitor.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await visitor.getByLabel('Repeat password').fill(PASSWORD);
  await visitor.getByRole('button', { name: 'Create personal account' }).click();
  await expect(visitor.getByRole('status')).toContainText('Check your inbox');
  const mail = await readMail(email, /Confirm your e-mail address/);
  await visitor.goto(linkIn(mail.text, '/confirm-email?token='));
  await hydrated(visitor);
  await check(visitor);
  await visitor.getByRole('button', { name: 'Confirm my e-mail address' }).click();
  await expect(visitor.getByText('Your personal account is not part of any business yet.')).toBeVisible();
}

async function openCustomers(page: Page) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Customers' })).toBeVisible();
}

async function addCustomer(page: Page, fields: Record<string, string>, opts: { type?: string } = {}) {
  await page.goto('/customers/new');
  await hydrated(page);
  for (const [label, value] of Object.entries(fields)) {
    await page.getByLabel(label, { exact: true }).fill(value);
  }
  if (opts.type) await page.getByLabel('Customer type').selectOption({ label: opts.type });
  await page.getByRole('button', { name: 'Create customer' }).click();
  await expect(page.getByRole('status')).toContainText('The customer has been created.');
  await hydrated(page);
}

test('a customer type with three permissions', async ({ page }) => {
  await business(page, 'types');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customer types' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Customer types' })).toBeVisible();
  await expect(page.getByRole('row', { name: /Standard/ })).toContainText('Default');
  await expectAccessible(page);
  await page.getByRole('link', { name: 'New customer type' }).click();
  await hydrated(page);
  await page.getByLabel('Name').fill('Plant owner');
  await page.getByLabel('Description').fill('Owners who run their own plants.');
  for (const feature of ['Create plant', 'Add gateway', 'Manage customer users']) {
    await page.getByRole('checkbox', { name: feature }).check();
  }
  await expectAccessible(page);
  await screenshot(page, 'customer-type-editor');
  await page.getByRole('button', { name: 'Save customer type' }).click();
  const row = page.getByRole('row', { name: /Plant owner/ });
  await expect(row).toContainText('Create plant, Add gateway, Manage customer users');
});

test('create customers, find, sort, page, edit with a validation error first', async ({ page }) => {
  const account = await business(page, 'list');
  await addCustomer(page, {
    Title: 'Zephyr Rooftops',
    'Company name': 'Zephyr Rooftops Ltd',
    'E-mail': 'ops@zephyr.example',
    Phone: '+44 20 7946 0958',
    Country: 'United Kingdom',
    State: 'England',
    City: 'Bristol',
    Address: '1 Harbour Side',
    'Address line 2': 'Unit 4',
    ZIP: 'BS1 5TT',
    Description: 'Every field filled in.',
  });
  await expect(page.getByRole('heading', { level: 1, name: 'Zephyr Rooftops' })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'customer-details');
  seed(account, 60);

  await openCustomers(page);
  await expect(page.getByText('61 customers')).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'customers');
  // Find by search.
  await page.getByLabel('Search').fill('zephyr');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/q=zephyr/);
  await expect(page.getByText('1 customer', { exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Zephyr Rooftops' })).toBeVisible();
  // Sort by city, then page forward and back.
  await page.goto('/customers?sort=city&size=25');
  await hydrated(page);
  const cities = await page.getByRole('row').locator('td:nth-child(6)').allInnerTexts();
  expect(cities).toEqual([...cities].sort((a, b) => a.localeCompare(b)));
  const firstTitle = await page.getByRole('rowheader').first().innerText();
  await page.getByRole('link', { name: 'Next page' }).click();
  await expect(page.getByText('Page 2')).toBeVisible();
  await expect(page.getByRole('rowheader').first()).not.toHaveText(firstTitle);
  await page.getByRole('link', { name: 'Previous page' }).click();
  await expect(page.getByText('Page 1', { exact: true })).toBeVisible();
  await expect(page.getByRole('rowheader').first()).toHaveText(firstTitle);
  // The page size sticks.
  await page.getByRole('link', { name: '10', exact: true }).click();
  await expect(page.getByRole('rowheader')).toHaveCount(10);
  await page.goto('/customers');
  await expect(page.getByRole('rowheader')).toHaveCount(10);

  // Edit with a validation error first.
  await page.goto('/customers?q=zephyr');
  await page.getByRole('link', { name: 'Zephyr Rooftops' }).click();
  await hydrated(page);
  await page.getByLabel('E-mail', { exact: true }).fill('not-an-address');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByText('Enter a valid e-mail address, like name@example.com.')).toBeVisible();
  await page.getByLabel('E-mail', { exact: true }).fill('hello@zephyr.example');
  await page.getByLabel('City', { exact: true }).fill('Bath');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('status')).toContainText('The changes have been saved.');
  await expect(page.getByLabel('City', { exact: true })).toHaveValue('Bath');
});

test('a sub-customer, a group, and a bulk delete of three', async ({ page }) => {
  await business(page, 'tree');
  for (const title of ['Alpha Farm', 'Beta Farm', 'Gamma Farm', 'Delta Farm']) {
    await addCustomer(page, { Title: title, City: 'Utrecht' });
  }
  // A sub-customer of Alpha Farm.
  await page.goto('/customers?q=alpha');
  await page.getByRole('link', { name: 'Alpha Farm' }).click();
  await hydrated(page);
  await page.getByRole('link', { name: 'Add sub-customer' }).click();
  await hydrated(page);
  await expect(page.getByText('This customer will be a sub-customer of Alpha Farm.')).toBeVisible();
  await page.getByLabel('Title').fill('Alpha Farm North');
  await page.getByRole('button', { name: 'Create customer' }).click();
  await expect(page.getByRole('navigation', { name: 'Breadcrumbs' }).getByRole('link', { name: 'Alpha Farm' })).toBeVisible();
  await page.getByRole('navigation', { name: 'Breadcrumbs' }).getByRole('link', { name: 'Alpha Farm' }).click();
  // Wait for the parent's page before choosing its tab (the child's page has the same tabs).
  await expect(page.getByRole('heading', { level: 1, name: 'Alpha Farm', exact: true })).toBeVisible();
  await page.getByRole('link', { name: /Sub-customers/ }).click();
  await expect(page.getByRole('link', { name: 'Alpha Farm North' })).toBeVisible();
  await expectAccessible(page);

  // A group, and Beta Farm in it.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customer groups' }).click();
  await hydrated(page);
  await page.getByRole('button', { name: 'New group' }).click();
  await page.getByRole('dialog', { name: 'New group' }).getByLabel('Group name').fill('Key accounts');
  await page.getByRole('dialog', { name: 'New group' }).getByRole('button', { name: 'Save group' }).click();
  await expect(page.getByRole('row', { name: /Key accounts/ })).toBeVisible();
  await expectAccessible(page);
  await page.goto('/customers?q=beta');
  await page.getByRole('link', { name: 'Beta Farm' }).click();
  await page.getByRole('link', { name: /Groups/ }).click();
  await hydrated(page);
  await page.getByRole('checkbox', { name: 'Key accounts' }).check();
  await page.getByRole('button', { name: 'Save groups' }).click();
  await expect(page.getByRole('status')).toContainText('The groups have been saved.');
  await page.goto('/customer-groups');
  await expect(page.getByRole('row', { name: /Key accounts/ }).getByRole('cell').first()).toHaveText('1');

  // Bulk-delete three.
  await page.goto('/customers?q=farm');
  await hydrated(page);
  for (const title of ['Beta Farm', 'Gamma Farm', 'Delta Farm']) {
    await page.getByRole('checkbox', { name: `Select ${title}` }).check();
  }
  await expect(page.getByRole('region', { name: 'Selected customers' })).toContainText('3 selected');
  await page.getByRole('region', { name: 'Selected customers' }).getByRole('button', { name: 'Delete' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete 3 customers?' });
  await expect(dialog).toContainText('These 3 customers will be deleted. This cannot be undone.');
  await expectAccessible(page);
  await dialog.getByRole('button', { name: 'Delete customers' }).click();
  await expect(page.getByRole('status').filter({ hasText: '3 customers were deleted.' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Gamma Farm' })).toHaveCount(0);

  // Delete a customer with a sub-customer, after reading the confirmation.
  await page.goto('/customers?q=alpha');
  await page.getByRole('link', { name: 'Alpha Farm', exact: true }).click();
  await hydrated(page);
  await page.getByRole('button', { name: 'Delete' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete Alpha Farm?' });
  await expect(confirm).toContainText('This customer will be deleted with 1 sub-customer. This cannot be undone.');
  await confirm.getByRole('button', { name: 'Delete customer' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Customers' })).toBeVisible();
  await page.goto('/customers?q=alpha');
  await expect(page.getByText('No customers match.')).toBeVisible();
});

test('self-register, confirm by e-mail, and be added as a customer by account', async ({ page, browser }) => {
  const person = uniqueEmail('solo');
  const context = await browser.newContext();
  const visitor = await context.newPage();
  const problems: string[] = [];
  watchConsole(visitor, problems);
  await visitor.goto('/sign-in');
  await visitor.getByRole('link', { name: 'Create a personal account' }).click();
  await registerPerson(visitor, 'Sol Owner', person, expectAccessible);
  expect(problems).toEqual([]);
  await context.close();

  await business(page, 'byaccount');
  await openCustomers(page);
  await page.getByRole('link', { name: 'Add by account' }).click();
  await hydrated(page);
  await expectAccessible(page);
  await page.getByLabel('E-mail of the registered person').fill(uniqueEmail('ghost'));
  await page.getByRole('button', { name: 'Add customer' }).click();
  await expect(page.getByText('No registered account is available for this e-mail')).toBeVisible();
  await page.getByLabel('E-mail of the registered person').fill(person);
  await page.getByLabel('Company name').fill('Sol Energy');
  await page.getByRole('button', { name: 'Add customer' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sol Energy' })).toBeVisible();
  await expect(page.getByText('Customer users').locator('..')).toContainText('1');
});

test('the customer pages stay usable before anything is selected or filtered', async ({ page }) => {
  await business(page, 'empty');
  await openCustomers(page);
  await expect(page.getByText('0 customers')).toBeVisible();
  await expect(page.getByText('No customers match.')).toBeVisible();
  await expectAccessible(page);
  await page.getByRole('link', { name: 'Add customer' }).click();
  await hydrated(page);
  await page.getByRole('button', { name: 'Create customer' }).click();
  await expect(page.getByText('Enter a title.')).toBeVisible();
  await expectAccessible(page);
});

test('seed 003: the list shows its group from All, and each row manages its customer users or deletes it', async ({ page }) => {
  await business(page, 'rows');
  for (const title of ['Row Solar', 'Row Wind']) {
    await addCustomer(page, { Title: title });
  }
  await page.goto('/customer-groups');
  await hydrated(page);
  await page.getByRole('button', { name: 'New group' }).click();
  await page.getByRole('dialog', { name: 'New group' }).getByLabel('Group name').fill('Favourites');
  await page.getByRole('dialog', { name: 'New group' }).getByRole('button', { name: 'Save group' }).click();
  await expect(page.getByRole('row', { name: /Favourites/ })).toBeVisible();
  await page.goto('/customers?q=wind');
  await page.getByRole('link', { name: 'Row Wind', exact: true }).click();
  await page.getByRole('link', { name: /Groups/ }).click();
  await hydrated(page);
  await page.getByRole('checkbox', { name: 'Favourites' }).check();
  await page.getByRole('button', { name: 'Save groups' }).click();
  await expect(page.getByRole('status')).toContainText('The groups have been saved.');

  // The list starts at All; one click shows a group, and the group is in the address.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers', exact: true }).click();
  await hydrated(page);
  const groups = page.getByRole('navigation', { name: 'Customer group' });
  await expect(groups.getByRole('link', { name: 'All', exact: true })).toHaveAttribute('aria-current', 'page');
  await groups.getByRole('link', { name: 'Favourites', exact: true }).click();
  await expect(page).toHaveURL(/group=\d+/);
  await expect(groups.getByRole('link', { name: 'Favourites', exact: true })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByRole('link', { name: 'Row Wind', exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Row Solar', exact: true })).toHaveCount(0);
  await expectAccessible(page);
  await groups.getByRole('link', { name: 'All', exact: true }).click();
  await expect(page.getByRole('link', { name: 'Row Solar', exact: true })).toBeVisible();

  // Each row: Manage customer users, without opening the customer first.
  await page.getByRole('row', { name: /Row Solar/ }).getByRole('link', { name: 'Manage customer users' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Row Solar', exact: true })).toBeVisible();
  await expect(page).toHaveURL(/tab=users/);

  // And Delete, with the details page's confirmation.
  await page.goto('/customers');
  await hydrated(page);
  await page.getByRole('row', { name: /Row Wind/ }).getByRole('button', { name: 'Delete' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete Row Wind?' });
  await expect(confirm).toContainText('This customer will be deleted. This cannot be undone.');
  await expectAccessible(page);
  await screenshot(page, 'customers-row-delete');
  await confirm.getByRole('button', { name: 'Delete customer' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Row Wind was deleted.' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Row Wind', exact: true })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Row Solar', exact: true })).toBeVisible();
});

test('seed 000: More options changes the type, renames the company, and removes a customer whose person keeps their login', async ({ page, browser }) => {
  const person = uniqueEmail('keep');
  const context = await browser.newContext();
  const visitor = await context.newPage();
  await visitor.goto('/register');
  await registerPerson(visitor, 'Kim Keeper', person);
  await context.close();

  await business(page, 'more');
  await page.goto('/customer-types/new');
  await hydrated(page);
  await page.getByLabel('Name').fill('Installer client');
  await page.getByRole('button', { name: 'Save customer type' }).click();
  await expect(page.getByRole('row', { name: /Installer client/ })).toBeVisible();
  await page.goto('/customers/add-by-account');
  await hydrated(page);
  await page.getByLabel('E-mail of the registered person').fill(person);
  await page.getByLabel('Company name').fill('Keep Energy');
  await page.getByRole('button', { name: 'Add customer' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Keep Energy' })).toBeVisible();

  await page.goto('/customers');
  await hydrated(page);
  const row = () => page.getByRole('row', { name: /Keep Energy/ });
  // "To modify a Customer's Type, rename their company, or remove them ... under the More options."
  await row().getByText('More options', { exact: true }).click();
  await row().getByRole('button', { name: 'Change type' }).click();
  const typeDialog = page.getByRole('dialog', { name: 'Change the type of Keep Energy' });
  await typeDialog.getByLabel('New type').selectOption({ label: 'Installer client' });
  await typeDialog.getByRole('button', { name: 'Change type' }).click();
  await expect(page.getByRole('status').filter({ hasText: '1 customer is now of type Installer client.' })).toBeVisible();
  await expect(row()).toContainText('Installer client');

  await row().getByText('More options', { exact: true }).click();
  await row().getByRole('button', { name: 'Rename company' }).click();
  const rename = page.getByRole('dialog', { name: 'Rename the company of Keep Energy' });
  await expect(rename.getByLabel('Company name')).toHaveValue('Keep Energy');
  await rename.getByLabel('Company name').fill('Keep Holdings');
  await expectAccessible(page);
  await rename.getByRole('button', { name: 'Rename company' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'The company of Keep Energy is now Keep Holdings.' })).toBeVisible();
  await expect(row()).toContainText('Keep Holdings');

  await row().getByText('More options', { exact: true }).click();
  await expect(row().getByRole('button', { name: 'Remove', exact: true })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'customers-more-options');
  await row().getByRole('button', { name: 'Remove', exact: true }).click();
  const remove = page.getByRole('dialog', { name: 'Remove Keep Energy?' });
  await expect(remove).toContainText('keeps their login');
  await remove.getByRole('button', { name: 'Remove customer' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Keep Energy was removed from your customers.' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Keep Energy', exact: true })).toHaveCount(0);

  // The person still signs in, to their own free account.
  const later = await browser.newContext();
  const own = await later.newPage();
  await signIn(own, person, PASSWORD);
  await expect(own.getByText('Your personal account is not part of any business yet.')).toBeVisible();
  await later.close();
});

/** The rows of a CSV file as a spreadsheet reads them (quoted fields, doubled quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i++; }
    else cell += c;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

test('export the filtered list and read the file', async ({ page }) => {
  const account = await business(page, 'export');
  await addCustomer(page, {
    Title: '=Formula Qzxroof', 'Company name': 'Roofing, Inc.', 'E-mail': 'hi@roofing.example', Phone: '+44 20 7946 0958',
    City: 'Aachen', Description: 'Says "hello"',
  });
  await addCustomer(page, { Title: 'Qzxroof Solar', City: 'Bremen' });
  await addCustomer(page, { Title: 'Other Solar', City: 'Cottbus' });
  seed(account, 40);

  await page.goto('/customers?q=qzxroof&sort=city&dir=desc');
  await hydrated(page);
  const shown = await page.getByRole('rowheader').allInnerTexts();
  expect(shown).toEqual(['Qzxroof Solar', '=Formula Qzxroof']);
  await expectAccessible(page);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Export CSV' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('customers.csv');
  const file = await download.path();
  const text = require('fs').readFileSync(file, 'utf8') as string;
  expect(text.charCodeAt(0)).toBe(0xfeff);
  const [header, ...rows] = parseCsv(text.slice(1));
  expect(header.slice(0, 4)).toEqual(['Title', 'Company name', 'E-mail', 'Phone']);
  // The file holds the list as shown: the same search, in the same order.
  const titles = rows.map((r) => r[0].replace(/^'(?=[=+\-@\t\r])/, ''));
  expect(titles).toEqual(shown);
  const formula = rows.find((r) => r[0].includes('Formula Qzxroof'))!;
  expect(formula[0]).toBe("'=Formula Qzxroof");
  expect(formula[1]).toBe('Roofing, Inc.');
  expect(formula[3]).toMatch(/^\+44/);
  expect(formula[10]).toBe('Says "hello"');
});

test('import a file with errors: dry run, fix the error rows, import with a progress bar', async ({ page }) => {
  test.setTimeout(180_000);
  await business(page, 'import');
  await openCustomers(page);
  await page.getByRole('link', { name: 'Import CSV' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Import customers' })).toBeVisible();
  await hydrated(page);
  await expectAccessible(page);

  // A spreadsheet saved with semicolons and a byte order mark: many good rows, two bad ones.
  const lines = ['Title;E-mail;City'];
  for (let i = 1; i <= 30000; i++) lines.push(`Importkunde ${String(i).padStart(5, '0')};k${i}@import.example;Köln`);
  lines.splice(5, 0, 'Broken Mail;not-an-address;Bonn');
  lines.push('Importkunde 00001;dup@import.example;Bonn');
  const file = '\ufeff' + lines.join('\r\n') + '\r\n';
  await page.getByLabel('CSV file').setInputFiles({ name: 'kunden.csv', mimeType: 'text/csv', buffer: Buffer.from(file, 'utf8') });
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Import kunden.csv' })).toBeVisible();
  await hydrated(page);
  // The columns are matched by their headers; the rest stay out.
  await expect(page.getByLabel('Title', { exact: true })).toHaveValue('0');
  await expect(page.getByLabel('E-mail', { exact: true })).toHaveValue('1');
  await expect(page.getByLabel('City', { exact: true })).toHaveValue('2');
  await expect(page.getByLabel('Phone', { exact: true })).toHaveValue('');
  await expectAccessible(page);
  await screenshot(page, 'import-columns');

  // The dry run: what each row will do, before anything is written.
  await page.getByRole('button', { name: 'Check the file' }).click();
  await expect(page.getByRole('heading', { name: 'What the import will do' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Errors (2)' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Create (30000)' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Import', exact: true })).toBeDisabled();
  await page.getByRole('link', { name: 'Errors (2)' }).click();
  const fileRows = page.getByRole('table', { name: 'Rows of the file' });
  await expect(fileRows.getByRole('rowheader')).toHaveText(['Broken Mail', 'Importkunde 00001']);
  await expect(fileRows.getByRole('row', { name: /Broken Mail/ })).toContainText('E-mail');
  await expect(fileRows.getByRole('row', { name: /Importkunde 00001/ })).toContainText('Line 2 has the same title.');
  await hydrated(page);
  await expectAccessible(page);
  await screenshot(page, 'import-dry-run');
  await page.goto('/customers?q=importkunde');
  await expect(page.getByText('No customers match')).toBeVisible();
  await page.goBack();
  await hydrated(page);

  // The error rows, to fix in the spreadsheet.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download the error rows (CSV)' }).click(),
  ]);
  const errorsText = require('fs').readFileSync(await download.path(), 'utf8') as string;
  const [header, ...bad] = parseCsv(errorsText.slice(1));
  expect(header).toEqual(['Title', 'E-mail', 'City', 'Error']);
  expect(bad.map((r) => r[0])).toEqual(['Broken Mail', 'Importkunde 00001']);
  expect(bad[0][3]).toMatch(/^E-mail: /);

  // The valid rows go in now, with the progress shown while they do.
  await page.getByLabel('Import the valid rows only').check();
  await page.getByRole('button', { name: 'Check the file' }).click();
  const importButton = page.getByRole('button', { name: 'Import 30000 customers' });
  await expect(importButton).toBeEnabled();
  await importButton.click();
  const progress = page.getByRole('progressbar');
  await expect(progress).toBeVisible();
  await expect(page.getByText(/Importing: \d+ of 30000 rows written/)).toBeVisible();
  await screenshot(page, 'import-progress');
  // The progress is the job's, not the page's: it is there after a reload.
  await page.reload();
  await expect(page.getByRole('heading', { level: 1, name: 'Import kunden.csv' })).toBeVisible();
  await expect(page.getByText('Imported: 30000 customers created, 0 updated, 0 rows skipped, 2 rows with errors not imported.')).toBeVisible({ timeout: 120_000 });
  await hydrated(page);
  await expectAccessible(page);
  await screenshot(page, 'import-done');

  // The two fixed rows, uploaded again (the Error column is left out by itself).
  bad[0][1] = 'broken@import.example';
  bad[1][0] = 'Importkunde Extra';
  const fixed = [header, ...bad].map((r) => r.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\n');
  await page.goto('/customers/import');
  await page.getByLabel('CSV file').setInputFiles({ name: 'kunden-fixed.csv', mimeType: 'text/csv', buffer: Buffer.from(fixed, 'utf8') });
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Import kunden-fixed.csv' })).toBeVisible();
  await hydrated(page);
  await page.getByRole('button', { name: 'Check the file' }).click();
  await expect(page.getByRole('link', { name: 'Create (2)' })).toBeVisible();
  await page.getByRole('button', { name: 'Import 2 customers' }).click();
  await expect(page.getByText('Imported: 2 customers created')).toBeVisible({ timeout: 30_000 });
  await page.getByRole('link', { name: 'See the customers' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Customers' })).toBeVisible();
  await page.goto('/customers?q=importkunde%2030000');
  await expect(page.getByRole('rowheader')).toHaveText(['Importkunde 30000']);
  await page.goto('/customers?q=importkunde%20extra');
  await expect(page.getByRole('rowheader')).toHaveText(['Importkunde Extra']);
  await page.goto('/customers?q=broken');
  await expect(page.getByRole('rowheader')).toHaveText(['Broken Mail']);
});
