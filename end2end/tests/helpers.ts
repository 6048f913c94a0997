import { expect, Page, TestInfo } from '@playwright/test';

/** True in the project that runs with JavaScript on. */
export const jsOn = (info: TestInfo) => info.project.name === 'js';

/** Waits until the WASM bundle has hydrated the page (JS project only). The debug bundle
 *  is several MB, and compiling it on a busy 2-core machine can take a while. */
export async function waitForHydration(page: Page) {
  await expect(page.locator('.site')).toHaveAttribute('data-hydrated', 'true', { timeout: 30_000 });
}

/** Parses "$1,234.50" into cents. */
export function cents(text: string): number {
  const m = text.replace(/,/g, '').match(/(\d+)\.(\d{2})/);
  if (!m) throw new Error(`no price in ${JSON.stringify(text)}`);
  return Number(m[1]) * 100 + Number(m[2]);
}
