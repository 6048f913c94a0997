import { expect, test } from '@playwright/test';
import { cents, jsOn, waitForHydration, watchErrors } from './helpers';

test.beforeEach(({ page }) => watchErrors(page));

// Runs in both projects: with JavaScript on (hydrated, client-side navigation)
// and off (plain server-rendered HTML and GET forms).
test('a shopper browses home → category → product → search', async ({ page }, info) => {
  await page.goto('/');
  await expect(page).toHaveTitle('Bazaar');
  if (jsOn(info)) await waitForHydration(page);
  await expect(page.getByRole('heading', { name: 'Shop by category' })).toBeVisible();

  await page.getByRole('link', { name: /^Apparel/ }).click();
  await expect(page).toHaveURL(/\/categories\/apparel$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Apparel' })).toBeVisible();
  await expect(page).toHaveTitle('Apparel · Bazaar');
  await expect(page.locator('.listing-count')).toContainText('of 24');

  // Sort by price, low to high, with the GET form.
  await page.getByLabel('Sort by').selectOption('price_asc');
  await page.getByRole('button', { name: 'Apply', exact: true }).click();
  await expect(page).toHaveURL(/sort=price_asc/);
  const prices = await page.locator('.product-card .price').allTextContents();
  expect(prices.length).toBe(24);
  const values = prices.map(cents);
  expect(values).toEqual([...values].sort((a, b) => a - b));

  // Open the cheapest product.
  const first = page.locator('.product-card-link').first();
  const name = (await first.locator('.product-name').textContent())!.trim();
  await first.click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
  await expect(page).toHaveTitle(`${name} · Bazaar`);
  await expect(page.getByTestId('price')).toHaveText(/\$\d/);
  await expect(page.getByRole('navigation', { name: 'Breadcrumb' })).toContainText('Apparel');

  // Search from the header.
  await page.getByRole('searchbox', { name: 'Search products' }).fill('headphones');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page).toHaveURL(/\/search\?q=headphones/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Results for “headphones”');
  const names = await page.locator('.product-card .product-name').allTextContents();
  expect(names.length).toBeGreaterThan(0);
  for (const n of names) expect(n).toContain('Headphones');
});

test('pagination walks a category without repeating products', async ({ page }) => {
  await page.goto('/categories/electronics?per_page=10&sort=name');
  const seen = new Set<string>();
  for (let i = 0; i < 3; i++) {
    // With JavaScript the next page arrives by client-side navigation: wait for it.
    await expect(page.locator('.pagination [aria-current="page"]')).toHaveText(`Page ${i + 1} of 3`);
    for (const n of await page.locator('.product-card .product-name').allTextContents()) {
      expect(seen.has(n)).toBe(false);
      seen.add(n);
    }
    const next = page.getByRole('link', { name: 'Next →' });
    if (i < 2) await next.click();
    else await expect(next).toHaveCount(0);
  }
  expect(seen.size).toBe(24);
});

test('typos still find products', async ({ page }) => {
  await page.goto('/search?q=headphnes');
  await expect(page.locator('.product-card').first()).toContainText('Headphones');
});

test('unknown pages answer 404 with a way back', async ({ page }) => {
  const res = await page.goto('/products/definitely-not-a-product');
  expect(res?.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1 })).toContainText("couldn't find");
  await page.getByRole('link', { name: 'Back to the shop' }).click();
  await expect(page).toHaveURL(/\/$/);
});

test('choosing a size shows its price and SKU', async ({ page, request }, info) => {
  const detail = await (await request.get('/api/catalog/products/classic-t-shirt')).json();
  const xl = detail.variants.find((v: { options: Record<string, string> }) => v.options.Size === 'XL');
  await page.goto('/products/classic-t-shirt');
  const radio = page.getByRole('radio', { name: /^XL/ });
  if (jsOn(info)) {
    await waitForHydration(page);
    // After hydration the no-JS button is gone and the choice applies instantly, in place.
    await expect(page.getByRole('button', { name: 'Show this option' })).toBeHidden();
    await radio.check();
    await expect(page).toHaveURL(/\/products\/classic-t-shirt$/);
  } else {
    await radio.check();
    await page.getByRole('button', { name: 'Show this option' }).click();
    await expect(page).toHaveURL(/option\.Size=XL/);
  }
  await expect(page.getByTestId('sku')).toHaveText(xl.sku);
  expect(cents((await page.getByTestId('price').textContent())!)).toBe(xl.price.amount);
});

// The merchandising journey: narrow a category by size, stock and price, open a product,
// pick its size, add it, and find the size on the cart line.
test('a shopper filters a category by size and price, picks a size and sees it in the cart', async ({ page }, info) => {
  const js = jsOn(info);
  await page.goto('/categories/apparel');
  if (js) await waitForHydration(page);
  const filters = page.getByRole('complementary', { name: 'Filters' });
  await filters.getByRole('checkbox', { name: /^M \(\d+\)$/ }).check();
  await filters.getByRole('checkbox', { name: /^In stock only/ }).check();
  await filters.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/option\.Size=M/);
  await expect(page).toHaveURL(/in_stock=true/);
  await expect(filters.getByRole('link', { name: 'Remove filter Size: M' })).toBeVisible();
  const narrowed = await page.locator('.product-card').count();
  expect(narrowed).toBeGreaterThan(0);

  // A price range is a link that keeps the other filters.
  const range = filters.getByRole('list').filter({ hasText: '$' }).getByRole('link').first();
  await range.click();
  await expect(page).toHaveURL(/price_min=\d+/);
  await expect(page).toHaveURL(/option\.Size=M/);
  await expect(filters.getByRole('checkbox', { name: /^M \(/ })).toBeChecked();

  await page.locator('.product-card-link').first().click();
  await expect(page).toHaveURL(/\/products\//);
  if (js) await waitForHydration(page);
  const size = page.getByRole('radio', { name: /^M/ });
  await size.check();
  if (!js) {
    await page.getByRole('button', { name: 'Show this option' }).click();
    await expect(page).toHaveURL(/option\.Size=M/);
  }
  await expect(page.getByTestId('sku')).toHaveText(/-M$/);
  const sku = (await page.getByTestId('sku').textContent())!.trim();
  await page.getByRole('button', { name: 'Add to cart' }).click();
  if (js) await expect(page.getByRole('status')).toContainText('Added to your cart');
  await page.goto('/cart');
  const line = page.locator(`tr[data-sku="${sku}"]`);
  await expect(line).toBeVisible();
  await expect(line.locator('.line-options')).toHaveText('Size: M');
});

// The demo store's tree: a department lists its subcategories, a subcategory lists only
// its own products, and a product's trail names the whole chain.
test('a shopper walks from a department into a subcategory and back up the trail', async ({ page }, info) => {
  await page.goto('/categories/electronics');
  if (jsOn(info)) await waitForHydration(page);
  await expect(page.locator('.listing-count')).toContainText('of 24');
  const below = page.getByRole('navigation', { name: 'Subcategories' });
  await expect(below.getByRole('link')).toHaveText([/^Audio\s*8 products$/, /^Computer Accessories\s*16 products$/]);
  await below.getByRole('link', { name: /^Audio/ }).click();
  await expect(page).toHaveURL(/\/categories\/audio$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Audio' })).toBeVisible();
  await expect(page.locator('.listing-count')).toContainText('of 8');
  const names = await page.locator('.product-card .product-name').allTextContents();
  expect(names.length).toBe(8);
  for (const n of names) expect(n).toMatch(/Headphones|Speaker/);

  await page.locator('.product-card-link').first().click();
  const trail = page.getByRole('navigation', { name: 'Breadcrumb' });
  await expect(trail.getByRole('link')).toHaveText(['Home', 'Electronics', 'Audio']);
  await trail.getByRole('link', { name: 'Electronics' }).click();
  await expect(page).toHaveURL(/\/categories\/electronics$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Electronics' })).toBeVisible();
});

// Every demo product has a two-picture gallery: thumbnails are links (?image=N) without
// JavaScript and swap the large image in place with it.
test('a shopper looks through a product gallery', async ({ page }, info) => {
  const js = jsOn(info);
  await page.goto('/products/classic-mug');
  if (js) await waitForHydration(page);
  const thumbs = page.getByRole('list', { name: 'Product images' }).getByRole('link');
  await expect(thumbs).toHaveCount(2);
  const large = page.locator('.gallery .product-image');
  await expect(large).toHaveAttribute('alt', 'Drawing of the Classic Mug');
  await expect(thumbs.first()).toHaveAttribute('aria-current', 'true');

  await thumbs.nth(1).click();
  await expect(large).toHaveAttribute('alt', 'Close-up drawing of the Classic Mug');
  await expect(large).toHaveAttribute('width', '480');
  await expect(thumbs.nth(1)).toHaveAttribute('aria-current', 'true');
  await expect(thumbs.first()).not.toHaveAttribute('aria-current', 'true');
  if (js) await expect(page).toHaveURL(/\/products\/classic-mug$/);
  else await expect(page).toHaveURL(/\/products\/classic-mug\?image=1$/);
});
