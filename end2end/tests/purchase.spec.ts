import { expect, Page, test, TestInfo } from '@playwright/test';
import { jsOn, waitForHydration, watchErrors } from './helpers';

test.beforeEach(({ page }) => watchErrors(page));

const PASSWORD = 'correct horse battery';

/** Signs a new shopper up and in through the API; the browser context keeps the cookie. */
async function signedInShopper(page: Page, info: TestInfo) {
  const email = `buyer-${info.project.name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  const signup = await page.request.post('/api/users', { data: { name: 'Bea Buyer', email, password: PASSWORD } });
  expect(signup.status()).toBe(201);
  const login = await page.request.post('/api/auth/login', { data: { email, password: PASSWORD } });
  expect(login.status()).toBe(200);
  return email;
}

/** Finds the mug by search, adds it, and checks out; ends on the payment page. */
async function buyMug(page: Page, js: boolean) {
  await page.goto('/search?q=classic+mug');
  if (js) await waitForHydration(page);
  await page.getByRole('link', { name: 'Classic Mug' }).first().click();
  await expect(page).toHaveURL(/\/products\/classic-mug/);
  if (js) await waitForHydration(page);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  if (js) await expect(page.getByRole('status')).toContainText('Added to your cart');
  await page.goto('/checkout');
  if (js) await waitForHydration(page);
  await page.getByLabel('Full name').fill('Bea Buyer');
  await page.getByLabel('Address', { exact: true }).fill('2 Side St');
  await page.getByLabel('City').fill('Shelbyville');
  await page.getByLabel('Postal code').fill('54321');
  await page.getByLabel(/Country code/).fill('US');
  await page.getByRole('button', { name: 'Place order' }).click();
  await expect(page).toHaveURL(/\/dev\/pay\/cs_dev_[0-9a-f]+$/);
}

async function payWith(page: Page, card: string) {
  await page.getByLabel('Card number').fill(card);
  await page.getByRole('button', { name: /^Pay / }).click();
}

/** Waits for the order page to say `status`: by itself once hydrated, by reloading without JS. */
async function expectStatus(page: Page, status: string, js: boolean) {
  const badge = page.getByTestId('order-status');
  if (js) {
    await expect(badge).toHaveAttribute('data-status', status, { timeout: 15_000 });
  } else {
    await expect(async () => {
      await page.reload();
      await expect(badge).toHaveAttribute('data-status', status, { timeout: 1_000 });
    }).toPass({ timeout: 15_000 });
  }
}

test('a shopper finds a product, pays with 4242 and sees it paid, in history and by email', async ({ page }, info) => {
  const js = jsOn(info);
  const email = await signedInShopper(page, info);
  await buyMug(page, js);
  await payWith(page, '4242 4242 4242 4242');

  await expect(page).toHaveURL(/\/checkout\/success\/[0-9a-f-]{36}$/);
  const orderId = page.url().split('/').pop()!;
  if (js) await waitForHydration(page);
  await expectStatus(page, 'paid', js);
  await expect(page.getByTestId('payment-confirmed')).toContainText('Your payment was received');
  await expect(page.getByTestId('pay-now')).toHaveCount(0);

  await page.goto('/orders');
  const row = page.locator('.orders-table tbody tr', { has: page.locator(`a[href="/orders/${orderId}"]`) });
  await expect(row.locator('.status')).toHaveText('Paid');

  await expect(async () => {
    const res = await page.request.get(`/dev/mailbox.json?to=${encodeURIComponent(email)}`);
    const mails = (await res.json()) as { subject: string }[];
    expect(mails.filter((m) => m.subject === 'Your Bazaar order is confirmed')).toHaveLength(1);
  }).toPass({ timeout: 15_000 });
});

test('a declined card is explained, and the shopper pays on a second try', async ({ page }, info) => {
  const js = jsOn(info);
  await signedInShopper(page, info);
  await buyMug(page, js);
  const payPage = page.url();
  await payWith(page, '4000 0000 0000 0002');
  await expect(page.getByRole('alert')).toContainText('Your card was declined');

  // The order page says so too, and offers the payment page again.
  await page.goto('/orders');
  await page.locator('.orders-table tbody tr a').first().click();
  if (js) await waitForHydration(page);
  await expect(page.getByTestId('order-status')).toHaveAttribute('data-status', 'pending_payment');
  await expect(page.getByTestId('payment-error')).toContainText('Your card was declined');
  await page.getByTestId('pay-now').click();
  await expect(page).toHaveURL(payPage);

  await payWith(page, '4242424242424242');
  await expect(page).toHaveURL(/\/checkout\/success\//);
  if (js) await waitForHydration(page);
  await expectStatus(page, 'paid', js);
});
