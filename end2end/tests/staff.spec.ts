import { expect, Page, Browser, Locator } from '@playwright/test';
import {
  test,
  PASSWORD, expectAccessible, hydrated, watchConsole, linkIn, readMail, screenshot, signIn, signOut, signUp, uniqueEmail,
} from './support';

async function openCompanies(page: Page) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Companies' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Companies' })).toBeVisible();
}

async function addCompany(page: Page, parent: string, name: string, type: 'Distributor' | 'Installer') {
  await page.getByRole('button', { name: `Add below ${parent}`, exact: true }).click();
  const dialog = page.getByRole('dialog', { name: `Add a company under ${parent}` });
  await dialog.getByLabel('Company name').fill(name);
  await dialog.getByLabel('Type').selectOption({ label: type });
  await dialog.getByRole('button', { name: 'Add company' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('row', { name: new RegExp(name) })).toBeVisible();
}

/** Signs up a business with a distributor and an installer under it. */
async function businessWithTree(page: Page, tag: string) {
  const email = uniqueEmail(`admin-${tag}`);
  const business = `Sunrise ${tag} ${Date.now().toString(36)}`;
  await signUp(page, { business, name: 'Avery Admin', email });
  await openCompanies(page);
  await addCompany(page, business, 'North Distribution', 'Distributor');
  await addCompany(page, 'North Distribution', 'Harbour Installers', 'Installer');
  return { email, business };
}

async function chooseOption(scope: Page | Locator, label: string, text: string) {
  const select = scope.getByLabel(label, { exact: true });
  const value = await select.locator('option', { hasText: text }).first().getAttribute('value');
  await select.selectOption(value!);
}

type Setup = 'invite' | 'generate' | 'custom';

async function addUser(page: Page, opts: { name: string; email: string; company: string; setup: Setup; role: string; password?: string }) {
  await page.goto('/users/new');
  await hydrated(page);
  await page.getByLabel('Username').fill(opts.name);
  await page.getByLabel('E-mail', { exact: true }).fill(opts.email);
  await chooseOption(page, 'Parent company', opts.company);
  const setupLabel = { invite: /^Send an invitation/, generate: /^Auto-generate a password/, custom: /^Set a password/ }[opts.setup];
  await page.getByRole('radio', { name: setupLabel }).check();
  if (opts.setup === 'custom') {
    await page.getByLabel('Password', { exact: true }).fill(opts.password!);
    await page.getByLabel('Repeat password').fill(opts.password!);
  }
  await page.getByRole('button', { name: 'Next: assign role' }).click();
  await page.getByRole('radio', { name: opts.role, exact: true }).check();
  await page.getByRole('button', { name: 'Create user' }).click();
  await expect(page.getByRole('status')).toContainText('The user has been created.');
}

async function newPage(browser: Browser, problems: string[]) {
  const context = await browser.newContext();
  const page = await context.newPage();
  watchConsole(page, problems);
  return { context, page };
}

/** Signs in with a password that must be replaced, and replaces it. */
async function signInAndReplacePassword(page: Page, email: string, first: string, chosen: string) {
  await signIn(page, email, first);
  await expect(page.getByRole('heading', { name: 'Change password' })).toBeVisible();
  await expect(page.getByText('You signed in with a temporary password.')).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Current password').fill(first);
  await page.getByLabel('New password', { exact: true }).fill(chosen);
  await page.getByLabel('Repeat new password').fill(chosen);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('heading', { level: 1, name: /^Welcome,/ })).toBeVisible();
  await hydrated(page);
}

test('create a distributor and an installer under it', async ({ page }) => {
  const { business } = await businessWithTree(page, 'tree');
  const rows = page.getByRole('row');
  await expect(rows.nth(1)).toContainText(business);
  await expect(rows.nth(2)).toContainText('North Distribution');
  await expect(rows.nth(3)).toContainText('Harbour Installers');
  await expect(page.getByRole('row', { name: /Harbour Installers/ })).toContainText('Installer');
  await expectAccessible(page);
  await screenshot(page, 'companies');

  // Moving a company under its own sub-company is refused.
  await page.getByRole('button', { name: 'Move North Distribution', exact: true }).click();
  const move = page.getByRole('dialog', { name: 'Move North Distribution' });
  await expect(move.getByLabel('New parent company').locator('option', { hasText: 'Harbour Installers' })).toHaveCount(0);
  await expectAccessible(page);
  await move.getByRole('button', { name: 'Cancel' }).click();

  // Deleting names what goes with it.
  await page.getByRole('button', { name: 'Delete North Distribution', exact: true }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete North Distribution?' });
  await expect(confirm).toContainText('These 2 companies will be deleted');
  await expect(confirm.getByRole('listitem')).toHaveText(['North Distribution', 'Harbour Installers']);
  await screenshot(page, 'company-delete-dialog');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
});

test('add a user under the installer with each password setup, and sign in as each', async ({ page, browser, consoleProblems }) => {
  await businessWithTree(page, 'add');
  await page.goto('/users/new');
  await hydrated(page);
  await expectAccessible(page);
  await screenshot(page, 'add-user-step-1');
  // Step one checks its fields before moving on.
  await page.getByRole('button', { name: 'Next: assign role' }).click();
  await expect(page.getByText('Enter a username.')).toBeVisible();
  await page.getByLabel('Username').fill('Step Checker');
  await page.getByLabel('E-mail', { exact: true }).fill(uniqueEmail('step'));
  await page.getByRole('button', { name: 'Next: assign role' }).click();
  await expect(page.getByRole('radio', { name: 'Owner', exact: true })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'add-user-step-2');

  const invited = uniqueEmail('invited');
  const generated = uniqueEmail('generated');
  const custom = uniqueEmail('custom');
  await addUser(page, { name: 'Ivy Invited', email: invited, company: 'Harbour Installers', setup: 'invite', role: 'Owner' });
  await expectAccessible(page);
  await screenshot(page, 'user-detail');
  await addUser(page, { name: 'Gene Generated', email: generated, company: 'Harbour Installers', setup: 'generate', role: 'Owner' });
  await addUser(page, { name: 'Cass Custom', email: custom, company: 'Harbour Installers', setup: 'custom', role: 'Operations Engineer', password: 'copper-lantern-tide' });

  // Invited: the link from the e-mail sets name and password and signs in.
  const invitation = await readMail(invited, /invited you to/);
  const one = await newPage(browser, consoleProblems);
  await one.page.goto(linkIn(invitation.text, '/invitation?token='));
  await hydrated(one.page);
  await expect(one.page.getByRole('heading', { name: 'Join your team' })).toBeVisible();
  await expectAccessible(one.page);
  await screenshot(one.page, 'accept-invitation');
  await one.page.getByLabel('Your name').fill('Ivy Invited');
  await one.page.getByLabel('Password', { exact: true }).fill('amber-piano-harbour');
  await one.page.getByLabel('Repeat password').fill('amber-piano-harbour');
  await one.page.getByRole('button', { name: 'Accept and sign in' }).click();
  await expect(one.page.getByRole('heading', { name: 'Welcome, Ivy' })).toBeVisible();
  await one.context.close();

  // Generated: the temporary password from the e-mail must be replaced at first sign-in.
  const temporary = await readMail(generated, /temporary password/);
  const password = temporary.text.match(/temporary password for you: (\S+)/)![1];
  const two = await newPage(browser, consoleProblems);
  await signInAndReplacePassword(two.page, generated, password, 'violet-harbour-lamp');
  await two.context.close();

  // Custom: the typed password must be replaced too.
  await readMail(custom, /Your account for/);
  const three = await newPage(browser, consoleProblems);
  await signInAndReplacePassword(three.page, custom, 'copper-lantern-tide', 'quiet-meadow-bridge');
  await three.context.close();
});

test('a Common Manager is not offered the Administrator role', async ({ page, browser, consoleProblems }) => {
  await businessWithTree(page, 'cm');
  const manager = uniqueEmail('manager');
  await addUser(page, { name: 'Morgan Manager', email: manager, company: 'North Distribution', setup: 'custom', role: 'Common Manager', password: 'copper-lantern-tide' });
  const { context, page: mgr } = await newPage(browser, consoleProblems);
  await signInAndReplacePassword(mgr, manager, 'copper-lantern-tide', 'quiet-meadow-bridge');
  await mgr.goto('/users/new');
  await hydrated(mgr);
  await mgr.getByLabel('Username').fill('Someone');
  await mgr.getByLabel('E-mail', { exact: true }).fill(uniqueEmail('someone'));
  await mgr.getByRole('button', { name: 'Next: assign role' }).click();
  const roles = mgr.getByRole('radio');
  await expect(mgr.getByRole('radio', { name: 'Common Manager', exact: true })).toBeVisible();
  await expect(mgr.getByRole('radio', { name: 'Administrator', exact: true })).toHaveCount(0);
  expect(await roles.count()).toBe(3);
  // Their company tree starts at their own company.
  await mgr.goto('/companies');
  await expect(mgr.getByRole('row', { name: /North Distribution/ })).toBeVisible();
  await expect(mgr.getByRole('row', { name: /Sunrise/ })).toHaveCount(0);
  await context.close();
});

test('invite three at once: one accepts, one is revoked, one gets a new link', async ({ page, browser, consoleProblems }) => {
  await businessWithTree(page, 'inv');
  const [a, b, c] = [uniqueEmail('acc'), uniqueEmail('rev'), uniqueEmail('res')];
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  await expectAccessible(page);
  await page.getByRole('button', { name: 'Invite users' }).click();
  const dialog = page.getByRole('dialog', { name: 'Invite users' });
  await dialog.getByLabel('E-mail addresses').fill(`${a}, ${b}\n${c}`);
  await dialog.getByLabel('Role').selectOption({ label: 'Owner' });
  await chooseOption(dialog, 'Company', 'Harbour Installers');
  await expectAccessible(page);
  await screenshot(page, 'invite-dialog');
  await dialog.getByRole('button', { name: 'Send invitations' }).click();
  await expect(page.getByRole('status').filter({ hasText: '3 invitations sent.' })).toBeVisible();

  await expect(page.getByRole('link', { name: 'Avery Admin', exact: true })).toBeVisible();
  await page.getByRole('link', { name: 'Invited', exact: true }).click();
  // The invited list has replaced the full one once the active Administrator is gone from it.
  await expect(page.getByRole('link', { name: 'Avery Admin', exact: true })).toHaveCount(0);
  for (const email of [a, b, c]) {
    await expect(page.getByRole('row', { name: new RegExp(email.replace(/[.+]/g, '\\$&')) })).toContainText('Invited');
  }
  await screenshot(page, 'users-invited');

  // Accept the first.
  const first = await readMail(a, /invited you to/);
  const x = await newPage(browser, consoleProblems);
  await x.page.goto(linkIn(first.text, '/invitation?token='));
  await hydrated(x.page);
  await x.page.getByLabel('Your name').fill('Ada Accepted');
  await x.page.getByLabel('Password', { exact: true }).fill('amber-piano-harbour');
  await x.page.getByLabel('Repeat password').fill('amber-piano-harbour');
  await x.page.getByRole('button', { name: 'Accept and sign in' }).click();
  await expect(x.page.getByRole('heading', { name: 'Welcome, Ada' })).toBeVisible();
  await x.context.close();

  // Revoke the second; its link then says so.
  const second = await readMail(b, /invited you to/);
  await page.getByRole('link', { name: b.split('@')[0], exact: true }).click();
  await page.getByRole('button', { name: 'Revoke invitation' }).click();
  const revoke = page.getByRole('dialog', { name: /Revoke the invitation/ });
  await revoke.getByRole('button', { name: 'Revoke invitation' }).click();
  // Back on the invited list once the revocation is saved.
  await expect(page).toHaveURL(/status=invited/);
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  await expect(page.getByRole('row', { name: new RegExp(b.replace(/[.+]/g, '\\$&')) })).toHaveCount(0);
  const y = await newPage(browser, consoleProblems);
  await y.page.goto(linkIn(second.text, '/invitation?token='));
  await expect(y.page.getByRole('heading', { name: 'This invitation was withdrawn' })).toBeVisible();
  await expect(y.page.getByText(/Ask Avery Admin/)).toBeVisible();
  await expectAccessible(y.page);
  await y.context.close();

  // Resend the third: the old link dies, the new one works.
  const third = await readMail(c, /invited you to/);
  await page.getByRole('link', { name: c.split('@')[0], exact: true }).click();
  await page.getByRole('button', { name: 'Resend invitation' }).click();
  await expect(page.getByRole('status')).toContainText('The earlier link no longer works.');
  await expect.poll(async () => (await readMail(c, /invited you to/)).text !== third.text).toBe(true);
  const z = await newPage(browser, consoleProblems);
  await z.page.goto(linkIn(third.text, '/invitation?token='));
  await expect(z.page.getByRole('heading', { name: 'This invitation was withdrawn' })).toBeVisible();
  const fresh = await readMail(c, /invited you to/);
  await z.page.goto(linkIn(fresh.text, '/invitation?token='));
  await expect(z.page.getByRole('heading', { name: 'Join your team' })).toBeVisible();
  await z.context.close();

  // The Outbox lists the invitations but never their links: those are for the invited alone.
  await page.goto('/outbox');
  await hydrated(page);
  const message = page.getByRole('row', { name: new RegExp(a.replace(/[.+]/g, '\\$&')) });
  await message.getByText('Read message').click();
  await expect(message.locator('pre')).toContainText(/\[(hidden: for the recipient only|removed after delivery)\]/);
  await expect(message.locator('pre')).not.toContainText('/invitation?token=');
  await expectAccessible(page);
  await screenshot(page, 'outbox-hidden-link');
});

test('disable a user and their open session ends; change a role; delete a user', async ({ page, browser, consoleProblems }) => {
  await businessWithTree(page, 'life');
  const email = uniqueEmail('dana');
  await addUser(page, { name: 'Dana Doe', email, company: 'Harbour Installers', setup: 'custom', role: 'Owner', password: 'copper-lantern-tide' });
  const userUrl = page.url().split('?')[0];
  const other = await newPage(browser, consoleProblems);
  await signInAndReplacePassword(other.page, email, 'copper-lantern-tide', 'quiet-meadow-bridge');

  // Change the role on the "Select role" tab.
  await page.getByRole('link', { name: 'Select role' }).click();
  await expectAccessible(page);
  await page.getByRole('radio', { name: 'Operations Engineer', exact: true }).check();
  await page.getByRole('button', { name: 'Save role' }).click();
  await expect(page.getByRole('status')).toContainText('The role has been changed.');
  await expect(page.getByRole('paragraph').filter({ hasText: 'Operations Engineer' }).first()).toBeVisible();
  await other.page.reload();
  await expect(other.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' })).toBeVisible();

  // Disable: their open session ends.
  await page.getByRole('button', { name: 'Disable' }).click();
  const confirm = page.getByRole('dialog', { name: 'Disable Dana Doe?' });
  await expectAccessible(page);
  await confirm.getByRole('button', { name: 'Disable user' }).click();
  await expect(page.getByRole('status')).toContainText('Dana Doe has been disabled and signed out.');
  await other.page.goto('/profile');
  await expect(other.page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  await signIn(other.page, email, 'quiet-meadow-bridge');
  await expect(other.page.getByRole('alert')).toContainText('disabled');
  await other.context.close();

  // Delete after confirming.
  await page.goto(userUrl);
  await hydrated(page);
  await page.getByRole('button', { name: 'Delete' }).click();
  const del = page.getByRole('dialog', { name: 'Delete Dana Doe?' });
  await expect(del).toContainText('This cannot be undone.');
  await del.getByRole('button', { name: 'Delete user' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Dana Doe' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Avery Admin', exact: true })).toBeVisible();
  await page.getByRole('link', { name: 'Deactivated users', exact: true }).click();
  await expect(page.getByRole('link', { name: 'Avery Admin', exact: true })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Dana Doe' })).toHaveCount(0);
});

test('roles, a custom role, and account settings', async ({ page }) => {
  await businessWithTree(page, 'roles');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Roles' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Roles' })).toBeVisible();
  await expect(page.getByRole('row', { name: /Administrator/ })).toContainText('Everything');
  await expectAccessible(page);
  await screenshot(page, 'roles');
  await page.getByRole('link', { name: 'New role' }).click();
  await hydrated(page);
  await page.getByLabel('Role name').fill('Support Desk');
  await page.getByLabel('Rank').fill('4');
  await page.getByRole('group', { name: 'Customers' }).getByLabel('View').check();
  await page.getByRole('group', { name: 'Customer users' }).getByLabel('Manage').check();
  await expectAccessible(page);
  await screenshot(page, 'role-editor');
  await page.getByRole('button', { name: 'Save role' }).click();
  await expect(page.getByRole('row', { name: /Support Desk/ })).toContainText('Customers, Customer users');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account settings' }).click();
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1, name: 'Account settings' })).toBeVisible();
  await page.getByLabel('Invitation links stay valid for (days)').fill('45');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByText('Enter a whole number of days from 1 to 30.')).toBeVisible();
  await page.getByLabel('Invitation links stay valid for (days)').fill('14');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('status')).toContainText('The settings have been saved.');
  await expectAccessible(page);
  await screenshot(page, 'settings');
});

test('a plain Owner sees neither Users nor Billing, and the server refuses them too', async ({ page, browser, consoleProblems }) => {
  await businessWithTree(page, 'owner');
  const email = uniqueEmail('owner');
  await addUser(page, { name: 'Olly Owner', email, company: 'Harbour Installers', setup: 'custom', role: 'Owner', password: 'copper-lantern-tide' });
  const { context, page: owner } = await newPage(browser, consoleProblems);
  await signInAndReplacePassword(owner, email, 'copper-lantern-tide', 'quiet-meadow-bridge');
  const nav = owner.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Companies' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Users' })).toHaveCount(0);
  await expect(nav.getByRole('link', { name: 'Billing' })).toHaveCount(0);
  await owner.goto('/users');
  await expect(owner.getByRole('alert')).toContainText('You do not have permission to do this.');
  const status = await owner.evaluate(async () => {
    const body = new URLSearchParams({ 'query[q]': '', 'query[status]': '', 'query[sort]': '', 'query[desc]': 'false', 'query[page]': '1', 'query[size]': '25' });
    const res = await fetch('/api/users', { method: 'POST', body, headers: { Accept: 'application/json' } });
    return res.status;
  });
  expect(status).toBe(403);
  // Billing likewise: the page says so, and the server refuses the call.
  await owner.goto('/billing');
  await expect(owner.getByRole('alert')).toContainText('You do not have permission to do this.');
  const billing = await owner.evaluate(async () => (await fetch('/api/billing', { method: 'POST', headers: { Accept: 'application/json' } })).status);
  expect(billing).toBe(403);
  await context.close();
  await signOut(page);
});

test('seed 001 and 004: the company name opens its users, Add user there is preset, and the lists are named as in the manual', async ({ page }) => {
  await businessWithTree(page, 'seed');
  // "In the list, click the name of the target Company."
  await page.getByRole('link', { name: 'Harbour Installers', exact: true }).click();
  await expect(page).toHaveURL(/\/users\?company=\d+/);
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  await hydrated(page);
  await page.getByRole('link', { name: 'Add user' }).click();
  await expect(page).toHaveURL(/\/users\/new\?company=\d+/);
  await hydrated(page);
  await expect(page.getByLabel('Parent company', { exact: true }).locator('option:checked')).toHaveText(/Harbour Installers/);

  // "Active users", "Invited", "Deactivated users".
  await page.goto('/users');
  await hydrated(page);
  const lists = page.getByRole('navigation', { name: 'User status' });
  for (const name of ['Active users', 'Invited', 'Deactivated users']) {
    await expect(lists.getByRole('link', { name, exact: true })).toBeVisible();
  }
  await expect(lists.getByRole('link', { name: 'Active users', exact: true })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByRole('link', { name: 'Avery Admin', exact: true })).toBeVisible();
  await expectAccessible(page);

  // Someone adds a user in another tab; clicking Users again shows them without a reload.
  const other = await page.context().newPage();
  await addUser(other, { name: 'Remy Recent', email: uniqueEmail('recent'), company: 'Harbour Installers', setup: 'custom', role: 'Owner', password: 'copper-lantern-tide' });
  await other.close();
  await expect(page.getByRole('link', { name: 'Remy Recent', exact: true })).toHaveCount(0);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
  await expect(page.getByRole('link', { name: 'Remy Recent', exact: true })).toBeVisible();
  await screenshot(page, 'users-active');
});

test('export the users list and the audit log as the pages show them', async ({ page }) => {
  await businessWithTree(page, 'export');
  await addUser(page, { name: 'Erin Exporter', email: uniqueEmail('erin'), company: 'Harbour Installers', setup: 'custom', role: 'Owner', password: 'copper-lantern-tide' });
  await page.goto('/users?sort=email&dir=desc');
  await hydrated(page);
  const shown = await page.getByRole('table').getByRole('row').filter({ has: page.locator('td') }).allInnerTexts();
  expect(shown.length).toBeGreaterThanOrEqual(2);
  const read = async (name: string) => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
    expect(download.suggestedFilename()).toBe(name);
    const text = require('fs').readFileSync(await download.path(), 'utf8') as string;
    expect(text.charCodeAt(0)).toBe(0xfeff);
    return text.slice(1).split('\r\n').filter((l) => l !== '');
  };
  const users = await read('users.csv');
  expect(users[0]).toBe('Name,E-mail,Role,Company,Region,Status,Last sign-in');
  expect(users.length - 1).toBe(shown.length);
  // In the page's order (by e-mail, descending).
  const emails = users.slice(1).map((l) => l.split(',')[1]);
  emails.forEach((email, i) => expect(shown[i]).toContain(email));
  expect(users.some((l) => l.startsWith('Erin Exporter,') && l.includes(',Harbour Installers,'))).toBeTruthy();

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Audit log' })).toBeVisible();
  await hydrated(page);
  await expectAccessible(page);
  const audit = await read('audit-log.csv');
  expect(audit[0]).toBe('Time (UTC),Actor,Action,Record type,Record,Client IP,Changes');
  expect(audit.some((l) => l.includes(',user.created,'))).toBeTruthy();
});
