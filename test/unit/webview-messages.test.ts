// Webview messages are parsed on the host before they are acted on: the declared shapes pass, anything else
// is refused with a reason and never throws.
import { strict as assert } from 'assert';
import fc from 'fast-check';
import {
  FromMapViewerSchema,
  FromTracePanelSchema,
  parseWebviewMessage,
} from '../../extension/host/ui/webview-messages';
import type { FromMapViewer, FromTracePanel } from '../../extension/webview/messages';

describe('webview message validation', () => {
  it('accepts every declared message', () => {
    const viewer: FromMapViewer[] = [
      { type: 'ready' },
      { type: 'range', request: 3, start: 0, count: 50 },
      { type: 'sort', column: -1, descending: false },
      { type: 'openForm', mode: 'edit', keyHex: '01000000', cpu: 'Σ' },
      { type: 'save', mode: 'add', key: { '': '1' }, value: { comm: 'x' }, cpu: 1 },
      { type: 'export', format: 'csv' },
    ];
    for (const m of viewer) assert.deepEqual(FromMapViewerSchema.parse(m), m);
    const panel: FromTracePanel[] = [{ type: 'filter', program: 'p', pid: '1', text: 'x' }, { type: 'addSource' }];
    for (const m of panel) assert.deepEqual(FromTracePanelSchema.parse(m), m);
  });

  it('refuses malformed messages with a reason, for any input', () => {
    const reasons: string[] = [];
    assert.equal(
      parseWebviewMessage(FromMapViewerSchema, { type: 'delete', keyHex: 'not hex' }, (w) => reasons.push(w)),
      undefined,
    );
    assert.equal(
      parseWebviewMessage(FromMapViewerSchema, { type: 'range', request: -1 }, (w) => reasons.push(w)),
      undefined,
    );
    assert.match(reasons[0], /keyHex/);
    fc.assert(
      fc.property(fc.anything(), (raw) => {
        parseWebviewMessage(FromMapViewerSchema, raw, () => undefined);
        parseWebviewMessage(FromTracePanelSchema, raw, () => undefined);
      }),
      { numRuns: 500 },
    );
  });
});
