import { expect, Page } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';
import { test, hydrated, signOut, signUp, uniqueEmail } from './support';

// The release build splits the WebAssembly by page group (src/app/pages.rs); the build's
// manifest names the modules each group's loader needs. A page must fetch its own group's
// modules and none that only another group uses.
const PKG = process.env.ROSTER_E2E_SITE_PKG ?? path.join(__dirname, '..', '..', 'target', 'site', 'pkg');

function manifest(): Record<string, string[]> {
  const file = fs.readdirSync(PKG).find((f) => /^__wasm_split_manifest\..*\.json$/.test(f));
  if (!file) throw new Error(`no split manifest in ${PKG}: the release build must run with --split`);
  return JSON.parse(fs.readFileSync(path.join(PKG, file), 'utf8'));
}

/** The modules a group's loader needs: the manifest's list, and the group's own split module. */
function modulesOf(all: Record<string, string[]>, group: string): Set<string> {
  const key = Object.keys(all).find((k) => k.startsWith(`${group}_`));
  if (!key) throw new Error(`no ${group} in the split manifest: ${Object.keys(all).join(', ')}`);
  const own = fs.readdirSync(PKG).filter((f) => f.startsWith(`split_${key}.`) && f.endsWith('.wasm'));
  return new Set([...all[key], ...own.map((f) => f.replace(/\.wasm$/, ''))]);
}

function recordWasm(page: Page): Set<string> {
  const seen = new Set<string>();
  page.on('requestfinished', (request) => {
    const name = new URL(request.url()).pathname.split('/').pop() ?? '';
    if (name.endsWith('.wasm')) seen.add(name.replace(/\.wasm$/, ''));
  });
  return seen;
}

test('a page downloads its own group of WebAssembly modules, not the customer pages\'', async ({ page, browser }) => {
  const all = manifest();
  const publicModules = modulesOf(all, 'public_pages');
  const customerModules = modulesOf(all, 'customer_pages');
  const customerOnly = [...customerModules].filter((m) => !publicModules.has(m));
  expect(customerOnly.length, 'the customer pages have modules of their own').toBeGreaterThan(0);

  const visitor = await browser.newPage();
  const fetched = recordWasm(visitor);
  await visitor.goto('/sign-in');
  await hydrated(visitor);
  await visitor.waitForLoadState('networkidle');
  expect([...publicModules].filter((m) => !fetched.has(m)), 'public modules the sign-in page did not fetch').toEqual([]);
  expect([...fetched].filter((m) => customerModules.has(m) && !publicModules.has(m)), 'customer modules fetched by sign-in').toEqual([]);
  await visitor.close();

  // Signed in, opening Customers from the menu fetches the customer modules then (client-side).
  await signUp(page, { business: 'Split Solar', name: 'Sam Split', email: uniqueEmail('split') });
  const later = recordWasm(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Customers' })).toBeVisible();
  await page.waitForLoadState('networkidle');
  const ownModules = modulesOf(all, 'own_pages');
  const newForCustomers = customerOnly.filter((m) => !ownModules.has(m));
  expect(newForCustomers.length, 'the customer pages need modules the overview does not').toBeGreaterThan(0);
  expect(newForCustomers.filter((m) => !later.has(m)), 'customer modules not fetched when Customers opened').toEqual([]);
  await signOut(page);
});
