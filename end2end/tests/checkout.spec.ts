import { expect, Page, test } from '@playwright/test';
import { cents, jsOn, waitForHydration, watchErrors } from './helpers';

test.beforeEach(({ page }) => watchErrors(page));

async function addToCart(page: Page, path: string, quantity: number, hydrate: boolean) {
  await page.goto(path);
  if (hydrate) await waitForHydration(page);
  await page.getByLabel('Quantity').fill(String(quantity));
  await page.getByRole('button', { name: 'Add to cart' }).click();
  if (hydrate) {
    await expect(page.getByRole('status')).toContainText('Added to your cart');
  } else {
    await expect(page).toHaveURL(/\/cart$/);
  }
}

test('a guest buys two products: cart, quantity change, checkout, pending confirmation', async ({ page }, info) => {
  const js = jsOn(info);
  await addToCart(page, '/products/classic-mug', 1, js);
  await addToCart(page, '/products/classic-t-shirt?variant=CLASSIC-T-SHIRT-XL', 2, js);
  if (js) await expect(page.getByTestId('cart-count')).toHaveText('3');

  // The mini-cart in the header opens with or without JavaScript (a <details> element).
  await page.goto('/');
  if (js) await waitForHydration(page);
  await expect(page.getByTestId('cart-count')).toHaveText('3');
  await page.locator('.mini-cart summary').click();
  const panel = page.locator('.mini-cart-panel');
  await expect(panel).toBeVisible();
  await expect(panel).toContainText('1 × Classic Mug');
  await expect(panel).toContainText('2 × Classic T-Shirt — XL');

  await page.goto('/cart');
  if (js) await waitForHydration(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your cart');
  const rows = page.locator('.cart-table tbody tr');
  await expect(rows).toHaveCount(2);
  const mugRow = page.locator('tr[data-sku="CLASSIC-MUG-STANDARD"]');
  await mugRow.getByLabel(/Quantity of/).fill('2');
  await mugRow.getByRole('button', { name: 'Update' }).click();
  await expect(mugRow.getByLabel(/Quantity of/)).toHaveValue('2');
  await expect(page.getByTestId('cart-count')).toHaveText('4');
  const subtotal = cents((await page.getByTestId('cart-subtotal').textContent())!);

  await page.getByRole('link', { name: 'Checkout' }).click();
  await expect(page).toHaveURL(/\/checkout$/);
  if (js) await waitForHydration(page);
  await page.getByLabel('Email').fill(`guest-${info.project.name}-${Date.now()}@example.com`);
  await page.getByLabel('Full name').fill('Guest Shopper');
  await page.getByLabel('Address', { exact: true }).fill('1 Main St');
  await page.getByLabel('City').fill('Springfield');
  await page.getByLabel('Postal code').fill('12345');
  await page.getByLabel(/Country code/).fill('US');
  await page.getByLabel(/^Standard/).check();
  await page.getByRole('button', { name: 'Place order' }).click();

  // The order is placed and the shopper is on the payment page, which charges our total.
  await expect(page).toHaveURL(/\/dev\/pay\/cs_dev_[0-9a-f]+$/);
  const total = cents((await page.getByTestId('pay-total').textContent())!);
  expect(total).toBe(subtotal + 500);

  // Backing out keeps the order reserved and payable.
  await page.getByRole('link', { name: 'Cancel and return to the shop' }).click();
  await expect(page).toHaveURL(/\/checkout\/cancelled\/[0-9a-f-]{36}$/);
  if (js) await waitForHydration(page);
  await expect(page.getByTestId('order-status')).toHaveAttribute('data-status', 'pending_payment');
  await expect(page.getByRole('status')).toContainText('Payment cancelled');
  await expect(page.getByTestId('pay-now')).toHaveAttribute('href', /\/dev\/pay\//);
  expect(cents((await page.getByTestId('order-total').textContent())!)).toBe(total);
  await expect(page.getByTestId('cart-count')).toHaveText('0');
});

test('checkout with missing details keeps the cart and says what to fix', async ({ page }, info) => {
  const js = jsOn(info);
  await addToCart(page, '/products/classic-mug', 1, js);
  await page.goto('/checkout');
  if (js) await waitForHydration(page);
  await page.getByLabel('Email').fill(`guest-${Date.now()}@example.com`);
  await page.getByLabel('Full name').fill('Guest');
  await page.getByLabel('Address', { exact: true }).fill('1 Main St');
  await page.getByLabel('City').fill('Springfield');
  await page.getByLabel('Postal code').fill('12345');
  // Past the browser's own checks: the server's rules must answer.
  await page.getByLabel(/Country code/).fill('USA');
  await page.getByRole('button', { name: 'Place order' }).click();
  await expect(page.locator('.field-error')).toContainText('two-letter code');
  await expect(page).toHaveURL(/\/checkout/);
  await page.goto('/cart');
  await expect(page.locator('.cart-table tbody tr')).toHaveCount(1);
});
