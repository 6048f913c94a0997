import { expect, Page, TestInfo } from '@playwright/test';

/** True in the project that runs with JavaScript on. */
export const jsOn = (info: TestInfo) => info.project.name === 'js';

/** Waits until the WASM bundle has hydrated the page (JS project only). The debug bundle
 *  is several MB, and compiling it on a busy 2-core machine can take a while. */
export async function waitForHydration(page: Page) {
  try {
    await expect(page.locator('.site')).toHaveAttribute('data-hydrated', 'true', { timeout: 30_000 });
  } catch (e) {
    // Say why: a WASM panic or a blocked script shows up here.
    throw new Error(`page did not hydrate: ${browserErrors.get(page)?.join(' | ') || 'no browser errors seen'}\n${e}`);
  }
}

const browserErrors = new WeakMap<Page, string[]>();

/** Records the page's script errors and console errors, for hydration failures. */
export function watchErrors(page: Page) {
  const errors: string[] = [];
  browserErrors.set(page, errors);
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  // Each document's status and policy, so a blocked hydration shows which answer blocked it.
  page.on('response', (r) => {
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) {
      errors.push(`document ${r.status()} ${r.url()} csp=${r.headers()['content-security-policy'] ?? '-'}`);
    }
  });
}

/** Parses "$1,234.50" into cents. */
export function cents(text: string): number {
  const m = text.replace(/,/g, '').match(/(\d+)\.(\d{2})/);
  if (!m) throw new Error(`no price in ${JSON.stringify(text)}`);
  return Number(m[1]) * 100 + Number(m[2]);
}
