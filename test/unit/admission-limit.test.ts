import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdmissionLimit } from '../../src/api/admission-limit';

const limit = (initial = 100) => new AdmissionLimit({ initial, min: 50, max: 130, fastMs: 450 });

describe('AdmissionLimit', () => {
  it('admits ids up to the limit and refuses the callback that would pass it', () => {
    const admission = limit();
    assert.equal(admission.tryAdmit(60), true);
    assert.equal(admission.tryAdmit(40), true);
    assert.equal(admission.tryAdmit(1), false);
    admission.recorded(40, 600);
    assert.equal(admission.tryAdmit(40), true);
  });

  it('always admits a callback when nothing is in flight, however large', () => {
    const admission = limit();
    assert.equal(admission.tryAdmit(1_000), true);
    assert.equal(admission.tryAdmit(1), false);
    admission.recorded(1_000, 600);
    assert.equal(admission.tryAdmit(1), true);
  });

  it('shrinks by 30 % for each callback that ran out of time, down to the minimum', () => {
    const admission = limit();
    admission.tryAdmit(10);
    admission.failed(10, true);
    assert.equal(admission.current, 70);
    for (let i = 0; i < 5; i += 1) {
      admission.tryAdmit(10);
      admission.failed(10, true);
    }
    assert.equal(admission.current, 50);
  });

  it('keeps its size when Temporal fails fast: that says nothing about its capacity', () => {
    const admission = limit();
    admission.tryAdmit(10);
    admission.failed(10, false);
    assert.equal(admission.current, 100);
    assert.equal(admission.tryAdmit(100), true, 'the failed callback freed its room');
  });

  it('grows with callbacks recorded fast, up to the maximum, and not with slow ones', () => {
    const admission = limit();
    admission.tryAdmit(100);
    admission.recorded(100, 600);
    assert.equal(admission.current, 100);
    admission.tryAdmit(100);
    admission.recorded(100, 100);
    assert.equal(admission.current, 110);
    for (let i = 0; i < 5; i += 1) {
      admission.tryAdmit(100);
      admission.recorded(100, 100);
    }
    assert.equal(admission.current, 130);
  });
});
