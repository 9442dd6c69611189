// The trace panel's counts add up: every record that reached the model was either offered to the webview
// or counted as dropped in the panel (pushed out of the ring before a flush took it).
import { strict as assert } from 'assert';
import fc from 'fast-check';
import { TraceModel } from '../../extension/host/features/trace-panel/model';
import type { TraceEntry } from '../../extension/host/features/trace-panel/source';

const entry = (n: number): TraceEntry => ({ raw: `line ${n}` });

describe('trace panel counts', () => {
  it('received = offered to the webview + dropped in panel, for any arrivals and flushes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.record({ lines: fc.nat({ max: 120 }), skipped: fc.nat({ max: 30 }), flush: fc.boolean() }), {
          maxLength: 40,
        }),
        (capacity, steps) => {
          const model = new TraceModel(capacity);
          let offered = 0;
          let n = 0;
          for (const s of steps) {
            model.addLines(
              Array.from({ length: s.lines }, () => entry(n++)),
              1000,
              s.skipped,
            );
            if (s.flush) offered += model.takeNew().length;
          }
          offered += model.takeNew().length;
          assert.equal(model.received, offered + model.droppedInPanel);
        },
      ),
      { numRuns: 300 },
    );
  });
});
