import { expect, test } from '@playwright/test';

test('static assets have hashed names and long-lived cache headers', async ({ page, request }) => {
  await page.goto('/');
  const css = await page.locator('link[rel="stylesheet"]').first().getAttribute('href');
  const js = await page.locator('link[rel="modulepreload"]').first().getAttribute('href');
  const wasm = await page.locator('link[rel="preload"][as="fetch"]').first().getAttribute('href');
  for (const href of [css, js, wasm]) {
    expect(href).toMatch(/^\/pkg\/bazaar\.[A-Za-z0-9_-]{10,}\.(css|js|wasm)$/);
    const res = await request.get(href!, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(res.status()).toBe(200);
    expect(res.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
  }
  // The page itself must not be cached as immutable.
  const home = await request.get('/');
  expect(home.headers()['cache-control'] ?? '').not.toContain('immutable');
});
