import { Browser, expect, Page, test, TestInfo } from '@playwright/test';
import { jsOn, waitForHydration, watchErrors } from './helpers';

const ADMIN_EMAIL = process.env.E2E_ADMIN_EMAIL ?? 'admin@bazaar.test';
const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD ?? 'e2e admin password';
const PASSWORD = 'correct horse battery';
// A valid 1×1 PNG: the server re-encodes whatever it accepts.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

/** A browser page signed in through the API, with JavaScript as the project says. */
async function signedIn(browser: Browser, info: TestInfo, email: string, password: string) {
  const context = await browser.newContext({ baseURL: process.env.BASE_URL ?? 'http://127.0.0.1:3000', javaScriptEnabled: jsOn(info) });
  const page = await context.newPage();
  watchErrors(page);
  const login = await page.request.post('/api/auth/login', { data: { email, password } });
  expect(login.status(), await login.text()).toBe(200);
  return page;
}

async function visit(page: Page, path: string, js: boolean) {
  await page.goto(path);
  if (js) await waitForHydration(page);
}

test('an admin adds a product with an image; a shopper finds and buys it; the admin ships it', async ({ browser }, info) => {
  const js = jsOn(info);
  const tag = `${info.project.name}${Date.now()}`;
  const name = `Aurora Teapot ${tag}`;
  const sku = `AURORA-${tag}`.toUpperCase().replace(/[^A-Z0-9-]/g, '');
  const admin = await signedIn(browser, info, ADMIN_EMAIL, ADMIN_PASSWORD);

  // Create the product.
  await visit(admin, '/admin/products/new', js);
  await admin.getByLabel('Name', { exact: true }).fill(name);
  await admin.getByLabel('Description').fill('A glass teapot that glows at dawn.');
  await admin.getByLabel('Category').selectOption({ index: 1 });
  if (js) {
    // The browser checks as you type, with the server's own SKU rule (compiled to WASM).
    await admin.getByLabel('SKU 1').fill('bad sku!');
    await expect(admin.getByLabel('SKU 1').locator('xpath=following-sibling::p[1]')).toContainText('SKU may only contain');
  }
  await admin.getByLabel('SKU 1').fill(sku);
  await admin.getByLabel('Variant name 1').fill('Standard');
  await admin.getByLabel('Price 1').fill('39.00');
  await admin.getByLabel('Stock 1').fill('5');
  await admin.getByRole('button', { name: 'Create product' }).click();
  await expect(admin).toHaveURL(/\/admin\/products\/aurora-teapot-[a-z0-9-]+\?saved=1$/);
  await expect(admin.getByRole('heading', { level: 1 })).toHaveText(name);
  const slug = new URL(admin.url()).pathname.split('/').pop()!;

  // Give it an image: a plain multipart form, the same with or without JavaScript.
  await admin.getByLabel(/Upload an image/).setInputFiles({ name: 'teapot.png', mimeType: 'image/png', buffer: PNG });
  await admin.getByLabel(/Alt text: what the image shows/).fill('A glass teapot, glowing');
  await admin.getByRole('button', { name: 'Upload image' }).click();
  await expect(admin).toHaveURL(new RegExp(`/admin/products/${slug}\\?image=added$`));
  await expect(admin.getByLabel('Alt text of image 1')).toHaveValue('A glass teapot, glowing');
  await expect(admin.locator('img.admin-image')).toHaveAttribute('src', new RegExp(`^/media/products/${slug}/[0-9a-f]+-1200\\.jpg$`));

  // A shopper finds it by search and pays for it.
  const email = `teapot-${tag}@example.com`;
  const signup = await admin.request.post('/api/users', { data: { name: 'Tea Lover', email, password: PASSWORD } });
  expect(signup.status()).toBe(201);
  const shopper = await signedIn(browser, info, email, PASSWORD);
  await visit(shopper, `/search?q=${encodeURIComponent(name)}`, js);
  await shopper.getByRole('link', { name }).first().click();
  await expect(shopper).toHaveURL(new RegExp(`/products/${slug}$`));
  if (js) await waitForHydration(shopper);
  await shopper.getByRole('button', { name: 'Add to cart' }).click();
  if (js) await expect(shopper.getByRole('status')).toContainText('Added to your cart');
  await visit(shopper, '/checkout', js);
  await shopper.getByLabel('Full name').fill('Tea Lover');
  await shopper.getByLabel('Address', { exact: true }).fill('3 Leaf Lane');
  await shopper.getByLabel('City').fill('Darjeeling');
  await shopper.getByLabel('Postal code').fill('73410');
  await shopper.getByLabel(/Country code/).fill('IN');
  await shopper.getByRole('button', { name: 'Place order' }).click();
  await expect(shopper).toHaveURL(/\/dev\/pay\//);
  await shopper.getByLabel('Card number').fill('4242 4242 4242 4242');
  await shopper.getByRole('button', { name: /^Pay / }).click();
  await expect(shopper).toHaveURL(/\/checkout\/success\/[0-9a-f-]{36}$/);
  const orderId = shopper.url().split('/').pop()!;

  // The admin finds the paid order and ships it.
  await expect(async () => {
    await visit(admin, '/admin/orders?status=paid', false);
    await expect(admin.locator(`tr[data-order="${orderId}"]`)).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await admin.locator(`tr[data-order="${orderId}"] a`).click();
  await expect(admin).toHaveURL(new RegExp(`/admin/orders/${orderId}$`));
  if (js) await waitForHydration(admin);
  await admin.getByLabel('Tracking number').fill('1Z999AA10123456784');
  await admin.getByRole('button', { name: 'Mark shipped' }).click();
  await expect(admin.getByTestId('admin-order-status')).toHaveAttribute('data-status', 'shipped');

  // The shopper sees it shipped and has the email.
  await visit(shopper, `/orders/${orderId}`, js);
  await expect(shopper.getByTestId('order-status')).toHaveAttribute('data-status', 'shipped');
  await expect(shopper.getByText('1Z999AA10123456784')).toBeVisible();
  await expect(async () => {
    const res = await shopper.request.get(`/dev/mailbox.json?to=${encodeURIComponent(email)}`);
    const mails = (await res.json()) as { subject: string }[];
    expect(mails.map((m) => m.subject)).toContain('Your Bazaar order has shipped');
  }).toPass({ timeout: 15_000 });
});

test('shoppers and guests cannot open the admin', async ({ page }, info) => {
  watchErrors(page);
  const res = await page.goto('/admin/orders');
  await expect(page).toHaveURL(/\/login\?next=/);
  expect(res?.status()).toBe(200);
  const email = `nosy-${info.project.name}-${Date.now()}@example.com`;
  expect((await page.request.post('/api/users', { data: { name: 'Nosy', email, password: PASSWORD } })).status()).toBe(201);
  expect((await page.request.post('/api/auth/login', { data: { email, password: PASSWORD } })).status()).toBe(200);
  const denied = await page.goto('/admin');
  expect(denied?.status()).toBe(403);
  await expect(page.getByRole('alert')).toBeVisible();
});

test('an admin curates a collection; shoppers find it from home, in that order', async ({ browser }, info) => {
  const js = jsOn(info);
  const tag = `${info.project.name}${Date.now()}`;
  const name = `Staff Picks ${tag}`;
  const admin = await signedIn(browser, info, ADMIN_EMAIL, ADMIN_PASSWORD);
  const listing = await admin.request.get('/api/catalog/products?per_page=2&sort=name');
  const items: { slug: string; name: string }[] = (await listing.json()).items;
  expect(items).toHaveLength(2);
  const [first, second] = [items[1], items[0]];

  await visit(admin, '/admin/collections/new', js);
  await admin.getByLabel('Name', { exact: true }).fill(name);
  await admin.getByLabel('Description').fill('What the team uses every day.');
  // A line naming no product is refused with its line number, and nothing is saved.
  await admin.getByLabel('Products', { exact: true }).fill(`${first.slug}\nno-such-product-${tag}`);
  await admin.getByRole('button', { name: 'Save collection' }).click();
  await expect(admin.getByText('Line 2: There is no product')).toBeVisible();
  // Without JavaScript the form comes back as it was loaded, so it is filled again.
  await admin.getByLabel('Name', { exact: true }).fill(name);
  await admin.getByLabel('Description').fill('What the team uses every day.');
  await admin.getByLabel('Products', { exact: true }).fill(`${first.slug}\n${second.slug}`);
  await admin.getByRole('button', { name: 'Save collection' }).click();
  await expect(admin).toHaveURL(/\/admin\/collections\/staff-picks-[a-z0-9-]+\?saved=1$/);
  await expect(admin.getByRole('status')).toContainText('Saved.');
  const slug = new URL(admin.url()).pathname.split('/').pop()!;

  const context = await browser.newContext({ baseURL: process.env.BASE_URL ?? 'http://127.0.0.1:3000', javaScriptEnabled: js });
  const shopper = await context.newPage();
  watchErrors(shopper);
  await visit(shopper, '/', js);
  await shopper.getByRole('link', { name: new RegExp(name) }).click();
  await expect(shopper).toHaveURL(new RegExp(`/collections/${slug}$`));
  await expect(shopper.getByRole('heading', { level: 1 })).toHaveText(name);
  await expect(shopper.getByText('What the team uses every day.')).toBeVisible();
  const cards = shopper.locator('.product-grid .product-name');
  await expect(cards.first()).toHaveText(first.name);
  await expect(cards.nth(1)).toHaveText(second.name);
  await context.close();
});

test('an admin nests a category; its parent lists what is below it, with the whole trail', async ({ browser }, info) => {
  const js = jsOn(info);
  const tag = `${info.project.name}${Date.now()}`.toLowerCase().replace(/[^a-z0-9]/g, '');
  const name = `Trail Kit ${tag}`;
  const admin = await signedIn(browser, info, ADMIN_EMAIL, ADMIN_PASSWORD);

  await visit(admin, '/admin/categories/new', js);
  await admin.getByLabel('Name', { exact: true }).fill(name);
  await admin.getByLabel('Parent').selectOption('outdoor');
  await admin.getByRole('button', { name: 'Save category' }).click();
  await expect(admin).toHaveURL(new RegExp(`/admin/categories/trail-kit-${tag}\\?saved=1$`));
  await expect(admin.getByRole('status')).toContainText('Saved.');
  const slug = `trail-kit-${tag}`;
  // Its parent cannot move under it.
  await visit(admin, '/admin/categories/outdoor', js);
  await admin.getByLabel('Parent').selectOption(slug);
  await admin.getByRole('button', { name: 'Save category' }).click();
  await expect(admin.getByRole('alert')).toContainText('cannot sit under itself');

  const made = await admin.request.post('/api/admin/products', {
    data: {
      name: `Trail Lamp ${tag}`, description: 'Light for the trail.', category: slug, active: true,
      variants: [{ sku: `LAMP-${tag}`.toUpperCase(), name: 'One', price: { amount: 3100, currency: 'USD' }, stock: 3 }],
    },
  });
  expect(made.status(), await made.text()).toBe(201);
  const product = (await made.json()).slug;

  const context = await browser.newContext({ baseURL: process.env.BASE_URL ?? 'http://127.0.0.1:3000', javaScriptEnabled: js });
  const shopper = await context.newPage();
  watchErrors(shopper);
  await visit(shopper, '/categories/outdoor?sort=newest', js);
  await shopper.getByRole('link', { name: new RegExp(`Trail Lamp ${tag}`) }).first().click();
  await expect(shopper).toHaveURL(new RegExp(`/products/${product}`));
  const trail = shopper.getByRole('navigation', { name: 'Breadcrumb' });
  await expect(trail.getByRole('link', { name: 'Outdoor' })).toHaveAttribute('href', '/categories/outdoor');
  await expect(trail.getByRole('link', { name })).toHaveAttribute('href', `/categories/${slug}`);
  await context.close();
});

test('an admin gives a product options and attributes; shoppers choose by them', async ({ browser }, info) => {
  const js = jsOn(info);
  const tag = `${info.project.name}${Date.now()}`.toLowerCase().replace(/[^a-z0-9]/g, '');
  const name = `Field Jacket ${tag}`;
  const stem = `JACKET-${tag}`.toUpperCase();
  const admin = await signedIn(browser, info, ADMIN_EMAIL, ADMIN_PASSWORD);

  // Its own category, so that no other journey's counts move.
  const category = await admin.request.post('/api/admin/categories', { data: { name: `Jackets ${tag}` } });
  expect(category.status(), await category.text()).toBe(201);
  const categorySlug = (await category.json()).slug;
  await visit(admin, '/admin/products/new', js);
  const options = admin.getByLabel('Options', { exact: true });
  if (js) {
    // The browser applies the server's option rules as the merchant types.
    await options.fill('Size: S, S');
    await expect(admin.locator('.field-hint').filter({ hasText: 'options[0].values[1]' })).toBeVisible();
  }
  // Without JavaScript a refused form comes back as it loaded, so each try fills it all.
  const fill = async (second: string) => {
    await admin.getByLabel('Name', { exact: true }).fill(name);
    await admin.getByLabel('Category').selectOption(categorySlug);
    await options.fill('Size: S, M');
    await admin.getByLabel('Attributes').fill('material: Waxed cotton');
    await admin.getByLabel('SKU 1').fill(`${stem}-S`);
    await admin.getByLabel('Variant name 1').fill('S');
    await admin.getByLabel('Price 1').fill('120.00');
    await admin.getByLabel('Stock 1').fill('4');
    await admin.getByLabel('Options 1').fill('Size: S');
    await admin.getByLabel('SKU 2').fill(`${stem}-M`);
    await admin.getByLabel('Variant name 2').fill('M');
    await admin.getByLabel('Price 2').fill('125.00');
    await admin.getByLabel('Stock 2').fill('2');
    await admin.getByLabel('Options 2').fill(second);
    await admin.getByRole('button', { name: 'Create product' }).click();
  };
  // A value the option does not have is refused, naming the row, and nothing is created.
  await fill('Size: XL');
  await expect(admin.locator('#variants\\[1\\]\\.options-error')).toContainText('not a value of Size');
  await fill('Size: M');
  await expect(admin).toHaveURL(/\/admin\/products\/field-jacket-[a-z0-9-]+\?saved=1$/);
  const slug = new URL(admin.url()).pathname.split('/').pop()!;

  const context = await browser.newContext({ baseURL: process.env.BASE_URL ?? 'http://127.0.0.1:3000', javaScriptEnabled: js });
  const shopper = await context.newPage();
  watchErrors(shopper);
  await visit(shopper, `/products/${slug}`, js);
  await expect(shopper.getByRole('group', { name: 'Size' })).toBeVisible();
  await expect(shopper.locator('.attributes')).toContainText('Waxed cotton');
  await shopper.getByRole('radio', { name: /^M/ }).check();
  if (!js) await shopper.getByRole('button', { name: 'Show this option' }).click();
  await expect(shopper.getByTestId('sku')).toHaveText(`${stem}-M`);
  await expect(shopper.getByTestId('price')).toHaveText('$125.00');
  await context.close();
});
