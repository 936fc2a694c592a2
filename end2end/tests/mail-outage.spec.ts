import { expect } from '@playwright/test';
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as net from 'net';
import * as path from 'path';
import { test, PASSWORD, expectAccessible, hydrated, signIn, uniqueEmail, watchConsole } from './support';

// This journey needs an SMTP server it can stop and start, so it runs its own Roster server on
// its own database with its own maildev, leaving the shared ones alone.

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitForPort(port: number, what: string) {
  await expect
    .poll(
      () =>
        new Promise<boolean>((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
          socket.on('error', () => resolve(false));
        }),
      { timeout: 30_000, message: `${what} on port ${port}` },
    )
    .toBe(true);
}

function startMaildev(smtp: number, web: number): ChildProcess {
  const bin = path.join(__dirname, '..', 'node_modules', '.bin', 'maildev');
  return spawn(bin, ['--ip', '127.0.0.1', '--smtp', String(smtp), '--web', String(web), '--silent'], { stdio: 'ignore' });
}

test('mail that fails while SMTP is down is retried from the outbox and arrives', async ({ browser }) => {
  const baseDb = process.env.ROSTER_E2E_DATABASE_URL;
  const bin = process.env.ROSTER_E2E_BIN ?? path.join(__dirname, '..', '..', 'target', 'release', 'roster');
  test.skip(!baseDb, 'needs ROSTER_E2E_DATABASE_URL (set by .dev/test)');
  const dbName = `roster_e2e_smtp_${Date.now().toString(36)}`;
  const admin = new URL(baseDb!);
  admin.pathname = '/postgres';
  const own = new URL(baseDb!);
  own.pathname = `/${dbName}`;
  execFileSync('psql', [admin.toString(), '-qc', `CREATE DATABASE ${dbName}`]);
  const [smtp, web, port] = [await freePort(), await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  const server = spawn(bin, ['serve'], {
    env: { ...process.env, DATABASE_URL: own.toString(), ROSTER_BIND: `127.0.0.1:${port}`, ROSTER_PUBLIC_URL: url, SMTP_URL: `smtp://127.0.0.1:${smtp}`, RUST_LOG: 'warn' },
    // From the repository root, where the compiled site (target/site) is.
    cwd: path.join(__dirname, '..', '..'),
    stdio: 'ignore',
  });
  let maildev: ChildProcess | undefined;
  try {
    await waitForPort(port, 'the Roster server');
    const context = await browser.newContext({ baseURL: url });
    const page = await context.newPage();
    const problems: string[] = [];
    watchConsole(page, problems);

    // SMTP is down, so no sign-up confirmation could arrive: the operator creates the account
    // from the command line. Then an activation e-mail is queued and its first delivery fails.
    const adminEmail = uniqueEmail('outage');
    execFileSync(bin, ['create-admin', '--account', `Outage ${Date.now().toString(36)}`, '--email', adminEmail, '--name', 'Casey Admin', '--password-stdin'], {
      input: `${PASSWORD}\n`,
      env: { ...process.env, DATABASE_URL: own.toString(), RUST_LOG: 'warn' },
      cwd: path.join(__dirname, '..', '..'),
    });
    await signIn(page, adminEmail, PASSWORD);
    await expect(page.getByRole('heading', { level: 1, name: 'Welcome, Casey' })).toBeVisible();
    await page.goto('/customers/new');
    await hydrated(page);
    await page.getByLabel('Title', { exact: true }).fill('Sunfield Farm');
    await page.getByRole('button', { name: 'Create customer' }).click();
    await expect(page.getByRole('status').first()).toContainText('The customer has been created.');
    await page.getByRole('link', { name: /^Users \(/ }).click();
    await hydrated(page);
    const email = uniqueEmail('rita');
    await page.getByRole('button', { name: 'Add customer user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add customer user' });
    await dialog.getByLabel('E-mail', { exact: true }).fill(email);
    await dialog.getByLabel('First name').fill('Rita');
    await dialog.getByLabel('Last name').fill('Berg');
    await dialog.getByText('Send activation link by e-mail').click();
    await dialog.getByRole('button', { name: 'Add customer user' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'An activation link was e-mailed' })).toBeVisible();

    const row = page.getByRole('row', { name: new RegExp(email.replace(/[.]/g, '\\.')) });
    await expect(async () => {
      await page.goto('/outbox');
      await expect(row).toContainText(/attempt \d+ failed/, { timeout: 1_000 });
    }).toPass({ timeout: 30_000 });
    await expect(row).toContainText(/Connection refused|connection/i);
    await expect(row).toContainText('Next attempt');
    await hydrated(page);
    await expectAccessible(page);

    // SMTP is back. The next automatic attempt is an hour away (as after several failures), so
    // only "Retry now" can send the mail before then: the Administrator retries and it arrives.
    execFileSync('psql', [own.toString(), '-qc', "UPDATE outbox SET next_attempt_at = now() + interval '1 hour' WHERE status = 'queued'"]);
    maildev = startMaildev(smtp, web);
    await waitForPort(smtp, 'maildev SMTP');
    await waitForPort(web, 'maildev web');
    await row.getByRole('button', { name: /^Retry now/ }).click();
    await expect(page.getByRole('status').filter({ hasText: 'The message is queued' })).toBeVisible();
    await expect(async () => {
      await page.goto('/outbox');
      await expect(row).toContainText('Sent', { timeout: 1_000 });
    }).toPass({ timeout: 30_000 });
    await expect
      .poll(async () => {
        const mails = (await (await fetch(`http://127.0.0.1:${web}/api/email`)).json()) as { to: { address: string }[]; subject: string }[];
        return mails.some((m) => m.to.some((t) => t.address === email) && /Activate your/.test(m.subject));
      }, { timeout: 20_000 })
      .toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  } finally {
    server.kill();
    maildev?.kill();
    await new Promise((r) => setTimeout(r, 500));
    execFileSync('psql', [admin.toString(), '-qc', `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`]);
  }
});
