import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApiOnTemporal, type ApiOnTemporal } from '../support/api-on-temporal';

describe('callbacks while Temporal is unreachable', () => {
  let system: ApiOnTemporal;

  before(async () => {
    system = await startApiOnTemporal('presence-unavailable');
  });
  after(() => system?.stop());

  const post = () => system.postCallback([1, 2, 3]);

  it('accepts while the server is up', async () => {
    assert.equal((await post()).statusCode, 202);
  });

  it('answers 503 fast, never 2xx, once the server is gone, and reports not ready', async () => {
    await system.server.stop();
    for (let i = 0; i < 3; i += 1) {
      const started = Date.now();
      const response = await post();
      assert.equal(response.statusCode, 503);
      assert.equal(response.json().error, 'unavailable');
      assert.ok(Date.now() - started < 500, `answered well within the sender's timeout (${Date.now() - started} ms)`);
    }
    const ready = await system.api.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    assert.equal(ready.json().temporal, false);
  });
});
