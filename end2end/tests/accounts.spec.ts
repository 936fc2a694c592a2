import { expect } from '@playwright/test';
import {
  test,
  PASSWORD, expectAccessible, hydrated, linkIn, openUserMenu, readMail, requestSignUp, screenshot, signIn, signOut, signUp,
  uniqueEmail,
} from './support';

test('sign up, confirm by e-mail, sign out, and sign in again', async ({ page, browser }) => {
  const email = uniqueEmail('ada');
  await page.goto('/sign-up');
  await hydrated(page);
  await expectAccessible(page);
  await screenshot(page, 'sign-up');

  await requestSignUp(page, { business: 'Acme Solar', name: 'Ada Lovelace', email });
  await expect(page.getByRole('status')).toContainText(`if ${email} can be used, we sent it a link`);
  await expectAccessible(page);
  await screenshot(page, 'sign-up-sent');
  // Nothing exists until the address is confirmed: the password does not sign in yet.
  const early = await browser.newPage();
  await signIn(early, email, PASSWORD);
  await expect(early.getByRole('alert')).toContainText('The e-mail or password is incorrect');
  await early.close();

  const mail = await readMail(email, /Confirm your e-mail address to create Acme Solar/);
  await page.goto(linkIn(mail.text, '/confirm-email?token='));
  await hydrated(page);
  await expect(page.getByText('One click creates Acme Solar on Roster')).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'confirm-email');
  await page.getByRole('button', { name: 'Confirm my e-mail address' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Welcome, Ada' })).toBeVisible();
  await expect(page.getByText('Acme Solar', { exact: true })).toBeVisible();
  await expect(page.getByText('You are signed in to Acme Solar as Administrator.')).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'overview');

  await signOut(page);
  await expectAccessible(page);
  await screenshot(page, 'sign-in');

  await signIn(page, email, PASSWORD);
  await expect(page.getByRole('heading', { name: 'Welcome, Ada' })).toBeVisible();
  await expect(page.getByRole('table').getByText('Signed in').first()).toBeVisible();

  // The confirmation link worked once; opened again it says so.
  await page.goto(linkIn(mail.text, '/confirm-email?token='));
  await expect(page.getByRole('heading', { name: 'This link has already been used' })).toBeVisible();
  await expectAccessible(page);
});

test('a wrong password gets the generic message and no session', async ({ page }) => {
  const email = uniqueEmail('bob');
  await signUp(page, { business: 'Bob Installers', name: 'Bob', email });
  await signOut(page);

  await signIn(page, email, 'not-my-password-at-all');
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('The e-mail or password is incorrect');
  await expect(page).toHaveURL(/\/sign-in/);

  await signIn(page, uniqueEmail('nobody'), 'not-my-password-at-all');
  await expect(page.getByRole('alert')).toContainText('The e-mail or password is incorrect');
  await page.goto('/');
  await expect(page).toHaveURL(/\/sign-in/);
});

test('bad input gets a clear message next to the field', async ({ page }) => {
  await page.goto('/sign-up');
  await hydrated(page);
  // Submitting the empty form: the server's messages appear by each field.
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toHaveText('Please correct the highlighted fields.');
  await expect(page.getByText('Enter your business name.')).toBeVisible();
  await expect(page.getByText('Enter an e-mail address.')).toBeVisible();
  await expect(page.getByLabel('Business name')).toHaveAttribute('aria-invalid', 'true');

  // As-you-type messages from the same rules the server runs.
  const email = page.getByLabel('Work e-mail');
  await email.fill('not-an-address');
  await email.blur();
  await expect(page.getByText('Enter a valid e-mail address, like name@example.com.')).toBeVisible();
  await email.fill(`${'a'.repeat(250)}@example.test`);
  await expect(page.getByText('Use at most 254 characters.')).toBeVisible();

  const name = page.getByLabel('Your name');
  await name.fill('x'.repeat(101));
  await name.blur();
  await expect(page.getByText('Use at most 100 characters.')).toBeVisible();

  const password = page.getByLabel('Password', { exact: true });
  await password.fill('short');
  await password.blur();
  await expect(page.getByText('Use at least 12 characters (5 so far).')).toBeVisible();
  await password.fill('qwerty123456');
  await expect(page.getByText('This is one of the most common passwords. Choose another.')).toBeVisible();
  await password.fill('violet-kettle-onward');
  await expect(page.getByText('This is one of the most common passwords. Choose another.')).toHaveCount(0);
  await expect(page.getByRole('list', { name: 'Password rules' }).getByText('12 to 128 characters (met)')).toBeAttached();

  const repeat = page.getByLabel('Repeat password');
  await repeat.fill('violet-kettle-0nward');
  await repeat.blur();
  await expect(page.getByText('The two passwords do not match.')).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'sign-up-errors');
});

test('signing up with an address already in use answers the same and tells its owner', async ({ page, browser }) => {
  const email = uniqueEmail('taken');
  await signUp(page, { business: 'First Co', name: 'First', email });
  const other = await browser.newPage();
  await requestSignUp(other, { business: 'Second Co', name: 'Second', email: email.toUpperCase() });
  await expect(other.getByRole('status')).toContainText(`if ${email.toUpperCase()} can be used`);
  await expect(other.getByText('already used')).toHaveCount(0);
  const notice = await readMail(email, /You already have a Roster account/);
  expect(notice.text).not.toContain('/confirm-email');
  await other.close();
});

test('forgot password: the e-mailed link sets a new password once', async ({ page }) => {
  const email = uniqueEmail('carol');
  await signUp(page, { business: 'Carol Energy', name: 'Carol', email });
  await signOut(page);

  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await hydrated(page);
  await expectAccessible(page);
  await page.getByLabel('E-mail').fill(email);
  await page.getByRole('button', { name: 'Send reset link' }).click();
  await expect(page.getByRole('status')).toContainText('If an account uses this address, a reset link is on its way');
  await screenshot(page, 'forgot-password');

  const mail = await readMail(email, /Reset your Roster password/);
  const link = linkIn(mail.text, '/reset-password?token=');
  await page.goto(link);
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Choose a new password' })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'reset-password');
  await page.getByLabel('New password', { exact: true }).fill('amber-piano-harbour');
  await page.getByLabel('Repeat new password').fill('amber-piano-harbour');
  await page.getByRole('button', { name: 'Save new password' }).click();
  await expect(page.getByRole('status')).toContainText('Your password has been changed');

  await signIn(page, email, PASSWORD);
  await expect(page.getByRole('alert')).toContainText('The e-mail or password is incorrect');
  await signIn(page, email, 'amber-piano-harbour');
  await expect(page.getByRole('heading', { name: 'Welcome, Carol' })).toBeVisible();

  // The link worked once; now it says so.
  await page.goto(link);
  await expect(page.getByRole('heading', { name: 'This link has already been used' })).toBeVisible();
  await expectAccessible(page);
});

test('change password, then sign in with the new one', async ({ page }) => {
  const email = uniqueEmail('dan');
  await signUp(page, { business: 'Dan Services', name: 'Dan', email });
  await openUserMenu(page);
  await page.getByRole('link', { name: 'Change password' }).click();
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Change password' })).toBeVisible();
  await expectAccessible(page);

  await page.getByLabel('Current password').fill('not-my-password-at-all');
  await page.getByLabel('New password', { exact: true }).fill('tidal-lantern-copper');
  await page.getByLabel('Repeat new password').fill('tidal-lantern-copper');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('This is not your current password.')).toBeVisible();

  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('status')).toContainText('Your password has been changed');
  await screenshot(page, 'change-password');

  await signOut(page);
  await signIn(page, email, 'tidal-lantern-copper');
  await expect(page.getByRole('heading', { name: 'Welcome, Dan' })).toBeVisible();
});

test('edit own profile', async ({ page }) => {
  const email = uniqueEmail('erin');
  await signUp(page, { business: 'Erin Grid', name: 'Erin Example', email });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Your profile' }).click();
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Your profile' })).toBeVisible();
  await expectAccessible(page);

  await page.getByLabel('Mobile phone').fill('12345');
  await page.getByLabel('Mobile phone').blur();
  await expect(page.getByText('Enter the number in international form')).toBeVisible();
  await page.getByLabel('Name').fill('Erin Q. Example');
  await page.getByLabel('Mobile phone').fill('+44 20 7946 0958');
  await page.getByLabel('Region').selectOption('Europe');
  await page.getByLabel('Language').selectOption({ label: 'Deutsch' });
  await page.getByRole('button', { name: 'Save profile' }).click();
  await expect(page.getByRole('status')).toContainText('Your profile has been saved.');
  await screenshot(page, 'profile');

  await page.reload();
  await expect(page.getByLabel('Name')).toHaveValue('Erin Q. Example');
  await expect(page.getByLabel('Mobile phone')).toHaveValue('+442079460958');
  await expect(page.getByLabel('Region')).toHaveValue('Europe');
  await expect(page.getByLabel('Language')).toHaveValue('de');
  await expect(page.locator('details.user-menu > summary')).toContainText('Erin Q. Example');
});

test('the outbox lists the mail sent for the account', async ({ page }) => {
  const email = uniqueEmail('fay');
  await signUp(page, { business: 'Fay Power', name: 'Fay', email });
  await openUserMenu(page);
  await page.getByRole('link', { name: 'Change password' }).click();
  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByLabel('New password', { exact: true }).fill('tidal-lantern-copper');
  await page.getByLabel('Repeat new password').fill('tidal-lantern-copper');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('status')).toContainText('Your password has been changed');
  await readMail(email, /password was changed/);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Outbox' }).click();
  await expect(page.getByRole('heading', { name: 'Outbox' })).toBeVisible();
  const row = page.getByRole('row', { name: /Your Roster password was changed/ });
  await expect(row).toBeVisible();
  // maildev may list the mail a moment before the worker has recorded it as sent.
  await expect(async () => {
    await page.goto('/outbox');
    await expect(row.getByText('Sent')).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expectAccessible(page);
  await screenshot(page, 'outbox');
});

test('signing in works without JavaScript, by plain form posts', async ({ browser }) => {
  const email = uniqueEmail('gus');
  const setup = await browser.newPage();
  await signUp(setup, { business: 'Gus Wind', name: 'Gus', email });
  await setup.close();

  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/sign-in');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill('wrong-password-here');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('The e-mail or password is incorrect');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Welcome, Gus' })).toBeVisible();
  await context.close();
});

test('unknown pages say so', async ({ page }) => {
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await expectAccessible(page);
});
