import { expect, Page, test, TestInfo } from '@playwright/test';
import { jsOn, waitForHydration, watchErrors } from './helpers';

test.beforeEach(({ page }) => watchErrors(page));

const PASSWORD = 'correct horse battery';

function uniqueEmail(info: TestInfo) {
  return `shopper-${info.project.name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** Polls the dev mailbox until a message with `subject` reaches `to`. */
async function expectMail(page: Page, to: string, subject: string) {
  await expect(async () => {
    const res = await page.request.get(`/dev/mailbox.json?to=${encodeURIComponent(to)}`);
    const mails = (await res.json()) as { subject: string }[];
    expect(mails.map((m) => m.subject)).toContain(subject);
  }).toPass({ timeout: 15_000 });
}

test('a shopper signs up, gets a welcome mail, signs out and back in', async ({ page }, info) => {
  const email = uniqueEmail(info);

  await page.goto('/');
  if (jsOn(info)) await waitForHydration(page);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.getByRole('link', { name: 'Create an account' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Create an account');
  if (jsOn(info)) await waitForHydration(page);

  await page.getByLabel('Name').fill('Pat Shopper');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();

  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Hello, Pat Shopper');
  await expect(page.getByTestId('account-email')).toHaveText(email);
  await expect(page.getByTestId('account-link')).toHaveText('Pat Shopper');

  // The welcome mail went through the outbox worker into the dev mailbox.
  await expectMail(page, email, 'Welcome to Bazaar');
  await page.goto(`/dev/mailbox?to=${encodeURIComponent(email)}`);
  await expect(page.getByRole('heading', { name: 'Welcome to Bazaar' })).toBeVisible();

  await page.goto('/account');
  if (jsOn(info)) await waitForHydration(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('link', { name: 'Sign in' })).toBeVisible();

  // Signed out, the account page sends us to the login page.
  await page.goto('/account');
  await expect(page).toHaveURL(/\/login\?next=\/account/);
  if (jsOn(info)) await waitForHydration(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Hello, Pat Shopper');
});

test('bad credentials and bad signups show clear errors and change nothing', async ({ page }, info) => {
  await page.goto('/login');
  if (jsOn(info)) await waitForHydration(page);
  await page.getByLabel('Email').fill(`nobody-${Date.now()}@example.com`);
  await page.getByLabel('Password').fill('wrong password!');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Invalid email or password.');
  await expect(page).toHaveURL(/\/login/);

  await page.goto('/signup');
  if (jsOn(info)) await waitForHydration(page);
  await page.getByLabel('Name').fill('Pat');
  await page.getByLabel('Email').fill(uniqueEmail(info));
  // Past the browser's own minlength check: the server's rule must speak.
  await page.getByLabel('Password').evaluate((el: HTMLInputElement) => el.removeAttribute('minlength'));
  await page.getByLabel('Password').fill('too short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('.field-error')).toContainText('at least 10 characters');
  await expect(page).toHaveURL(/\/signup/);
});

test('the signup form checks the password as you type (after hydration)', async ({ page }, info) => {
  test.skip(!jsOn(info), 'needs JavaScript');
  await page.goto('/signup');
  await waitForHydration(page);
  await page.getByLabel('Password').fill('abc');
  await expect(page.locator('#password-hint')).toHaveText('password must be at least 10 characters');
  await page.getByLabel('Password').fill('abcdefghijk');
  await expect(page.locator('#password-hint')).toHaveText('At least 10 characters.');
});

test('changing the password signs out the other devices and keeps this one', async ({ page, browser }, info) => {
  const email = uniqueEmail(info);
  const NEW_PASSWORD = 'a brand new password';
  const signup = await page.request.post('/api/users', {
    data: { email, password: PASSWORD, name: 'Pat Shopper' },
  });
  expect(signup.status()).toBe(201);
  // A second device, signed in with the old password.
  const other = await browser.newContext({
    baseURL: info.project.use.baseURL,
    javaScriptEnabled: jsOn(info),
  });
  const phone = await other.newPage();
  expect((await phone.request.post('/api/auth/login', { data: { email, password: PASSWORD } })).status()).toBe(200);
  await phone.goto('/account');
  await expect(phone.getByRole('heading', { level: 1 })).toHaveText('Hello, Pat Shopper');

  await page.goto(`/login?next=/account`);
  if (jsOn(info)) await waitForHydration(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/account$/);
  if (jsOn(info)) await waitForHydration(page);

  // A wrong current password is named and changes nothing.
  await page.getByLabel('Current password').fill('not my password');
  await page.getByLabel('New password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('This is not your current password.').first()).toBeVisible();

  if (!jsOn(info)) await page.goto('/account');
  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByLabel('New password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Your password is changed' })).toBeVisible();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Hello, Pat Shopper');

  // The other device is signed out; the new password signs in.
  await phone.goto('/account');
  await expect(phone).toHaveURL(/\/login\?next=\/account/);
  expect((await phone.request.post('/api/auth/login', { data: { email, password: NEW_PASSWORD } })).status()).toBe(200);
  await other.close();
});
