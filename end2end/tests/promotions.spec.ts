import { Browser, expect, Page, test, TestInfo } from '@playwright/test';
import { cents, jsOn, waitForHydration, watchErrors } from './helpers';

const ADMIN_EMAIL = process.env.E2E_ADMIN_EMAIL ?? 'admin@bazaar.test';
const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD ?? 'e2e admin password';

/** A fresh browser context with JavaScript as the project says, signed in when asked. */
async function browse(browser: Browser, info: TestInfo, login?: { email: string; password: string }) {
  const context = await browser.newContext({ baseURL: process.env.BASE_URL ?? 'http://127.0.0.1:3000', javaScriptEnabled: jsOn(info) });
  const page = await context.newPage();
  watchErrors(page);
  if (login) {
    const res = await page.request.post('/api/auth/login', { data: login });
    expect(res.status(), await res.text()).toBe(200);
  }
  return page;
}

async function visit(page: Page, path: string, js: boolean) {
  await page.goto(path);
  if (js) await waitForHydration(page);
}

// The discount journey: the merchant makes a code in the admin, a shopper is told why a
// wrong code fails, applies the right one in the cart, sees it at checkout, pays less, and
// the merchant sees the use counted. With JavaScript on and off.
test('an admin makes a discount code; a shopper applies it in the cart and pays less', async ({ browser }, info) => {
  const js = jsOn(info);
  const tag = `${info.project.name}${Date.now()}`.toUpperCase().replace(/[^A-Z0-9]/g, '');
  const code = `SAVE${tag}`;
  const admin = await browse(browser, info, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });

  await visit(admin, '/admin/promotions/new', js);
  await admin.getByLabel('Code', { exact: true }).fill(code);
  await admin.getByLabel('Kind').selectOption('percent');
  await admin.getByLabel('Value').fill('20');
  await admin.getByLabel('Uses in all').fill('10');
  await admin.getByRole('button', { name: 'Save discount code' }).click();
  await expect(admin).toHaveURL(new RegExp(`/admin/promotions/${code}\\?saved=1$`));
  await expect(admin.getByTestId('promotion-uses')).toHaveText('Used on 0 of 10 orders · active');

  // Its own category and product, so that no other journey's counts or stock move.
  const category = await admin.request.post('/api/admin/categories', { data: { name: `Deals ${tag}` } });
  expect(category.status(), await category.text()).toBe(201);
  const sku = `DEAL-${tag}`;
  const made = await admin.request.post('/api/admin/products', {
    data: {
      name: `Deal Lantern ${tag}`, description: 'A lantern on offer.', category: (await category.json()).slug, active: true,
      variants: [{ sku, name: 'Standard', price: { amount: 2500, currency: 'USD' }, stock: 5 }],
    },
  });
  expect(made.status(), await made.text()).toBe(201);

  const shopper = await browse(browser, info);
  const added = await shopper.request.post('/api/cart/items', { data: { sku, quantity: 2 } });
  expect(added.status(), await added.text()).toBe(200);
  await visit(shopper, '/cart', js);
  const field = shopper.getByLabel('Code', { exact: true });
  await field.fill('NOT-A-REAL-CODE');
  await shopper.getByRole('button', { name: 'Apply' }).click();
  await expect(shopper.getByRole('alert')).toContainText('That discount code does not exist.');

  await shopper.getByLabel('Code', { exact: true }).fill(code.toLowerCase());
  await shopper.getByRole('button', { name: 'Apply' }).click();
  await expect(shopper.getByTestId('discount-code')).toHaveText(code);
  await expect(shopper.getByTestId('cart-discount')).toHaveText('-$10.00');
  await expect(shopper.getByTestId('cart-total')).toHaveText('$40.00');
  await expect(shopper.locator('.line-discount')).toHaveText('-$10.00 with code');

  await visit(shopper, '/checkout', js);
  await expect(shopper.getByTestId('cart-discount')).toHaveText('-$10.00');
  await expect(shopper.getByTestId('checkout-total')).toContainText('$45.00');
  await shopper.getByLabel('Email').fill(`deal-${tag.toLowerCase()}@example.com`);
  await shopper.getByLabel('Full name').fill('Dee Deal');
  await shopper.getByLabel('Address', { exact: true }).fill('3 Bargain Rd');
  await shopper.getByLabel('City').fill('Springfield');
  await shopper.getByLabel('Postal code').fill('12345');
  await shopper.getByLabel(/Country code/).fill('US');
  await shopper.getByRole('button', { name: 'Place order' }).click();
  await expect(shopper).toHaveURL(/\/dev\/pay\/cs_dev_[0-9a-f]+$/);
  await shopper.getByLabel('Card number').fill('4242 4242 4242 4242');
  await shopper.getByRole('button', { name: /^Pay / }).click();
  await expect(shopper).toHaveURL(/\/checkout\/success\/[0-9a-f-]{36}$/);
  await expect(shopper.getByTestId('order-discount')).toHaveText('-$10.00');
  expect(cents((await shopper.getByTestId('order-total').textContent())!)).toBe(4500);

  await visit(admin, `/admin/promotions/${code}`, js);
  await expect(admin.getByTestId('promotion-uses')).toHaveText('Used on 1 of 10 orders · active');
  await shopper.context().close();
  await admin.context().close();
});
