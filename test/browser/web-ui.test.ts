import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, saveScreenshot } from '../support/browser';
import { freePort } from '../../dev/support/ports';
import { TestStack } from '../support/stack';
import { answer, startStubObjectService, type StubObjectService } from '../support/stub-object-service';
import { eventually } from '../../dev/support/wait';

// The Temporal Web UI as a person uses it: an object's workflow says what it knows of the object,
// and a callback's workflow is listed with its ids.

let objectService: StubObjectService;
let stack: TestStack;
let uiUrl: string;
let browser: Browser;

before(async () => {
  objectService = await startStubObjectService((id, _attempt, response) =>
    answer(response, 200, { id, online: id % 2 === 0 }),
  );
  const uiPort = await freePort();
  stack = await TestStack.start({ objectServiceUrl: objectService.url, uiPort });
  uiUrl = `http://127.0.0.1:${uiPort}/namespaces/default`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
  await objectService?.close();
});

/** Waits until `text` shows in the page or in one of its frames (the UI renders details as markdown in a frame). */
const shown = (page: Page, text: string) =>
  eventually(
    async () => {
      for (const frame of page.frames()) if ((await frame.getByText(text, { exact: false }).count()) > 0) return true;
      return undefined;
    },
    `"${text}" on ${page.url()}`,
    30_000,
  );

test('an object workflow shows the object, its last check and the sighting time', async () => {
  const sentAt = Date.now();
  const response = await fetch(stack.callbackUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': 'web-ui' },
    body: JSON.stringify({ object_ids: [42, 43] }),
  });
  assert.equal(response.status, 202);
  const online = await stack.checked(42, sentAt);
  await stack.checked(43, sentAt);

  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  try {
    // The current details are answered by the running workflow, under the User Metadata tab.
    await page.goto(`${uiUrl}/workflows/object-42`);
    await page.getByText('User Metadata', { exact: true }).click();
    await shown(page, 'Object 42');
    await page.getByText('Summary', { exact: true }).waitFor();
    await shown(page, `online, last seen ${online.checkedReceivedAt}`);
  } finally {
    await saveScreenshot(page, 'web-ui-object');
  }
  try {
    await page.goto(`${uiUrl}/workflows/callback-key-web-ui`);
    await page.getByText('User Metadata', { exact: true }).click();
    await shown(page, '2 ids');
    await shown(page, '2 handed out, 0 expired');
  } finally {
    await saveScreenshot(page, 'web-ui-callback');
  }
});
