import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { buildApp } from '../../src/api/app';
import { launchChromium, saveScreenshot } from '../support/browser';
import { InMemoryRecorder } from '../support/in-memory-recorder';

// The API's own description, as a person reads it at /docs: every answer of POST /callback with
// what it means and an example.

let app: FastifyInstance;
let docsUrl: string;
let browser: Browser;

before(async () => {
  app = buildApp({ recorder: new InMemoryRecorder(), isDatabaseReachable: async () => true });
  docsUrl = `${await app.listen({ port: 0, host: '127.0.0.1' })}/docs`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await app?.close();
});

test('Swagger UI shows POST /callback with every answer described', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 2400 } });
  try {
    await page.goto(docsUrl);
    await page.getByText('/callback', { exact: true }).first().click();
    for (const text of [
      'Recorded: the whole callback is durable',
      'Neither Temporal nor the outbox could record the callback in time',
      'The body is over 256 KiB',
      'Idempotency-Key',
    ]) {
      await page.getByText(text, { exact: false }).first().waitFor({ timeout: 15_000 });
    }
  } finally {
    await saveScreenshot(page, 'swagger-ui-callback');
  }
});
