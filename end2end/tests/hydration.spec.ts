import { expect, test } from '@playwright/test';
import { waitForHydration } from './helpers';

test.describe('hydration', () => {
  test.skip(({ javaScriptEnabled }) => !javaScriptEnabled, 'needs JavaScript');

  test('the WASM bundle hydrates the page and makes it interactive without reloading', async ({ page }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto('/products/classic-t-shirt');
    await waitForHydration(page);

    // A marker on the window survives only if nothing reloads the document.
    await page.evaluate(() => ((window as any).__marker = 'still-here'));
    await page.getByRole('radio', { name: /^L/ }).check();
    await expect(page.getByTestId('sku')).toHaveText('CLASSIC-T-SHIRT-L');
    expect(await page.evaluate(() => (window as any).__marker)).toBe('still-here');

    // Client-side navigation keeps the same document too.
    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Apparel' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Apparel' })).toBeVisible();
    expect(await page.evaluate(() => (window as any).__marker)).toBe('still-here');
    expect(errors).toEqual([]);
  });
});
