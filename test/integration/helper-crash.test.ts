// The helper killed with SIGKILL (a crash, an OOM kill) is restarted by the extension, which says so, and
// the views list the kernel through the new helper.
import * as assert from 'assert';
import { waitUntil } from '../e2e/support/system';
import { api, extensionLog, theHelper, viewNodes, waitForNodes } from './support';

describe('integration: the helper killed with SIGKILL', () => {
  it('is restarted by the extension, which logs why, and the views recover', async function () {
    this.timeout(90_000);
    const views = await api();
    const old = await theHelper();
    process.kill(old.pid, 'SIGKILL');
    // The extension notices at once: the views show the helper down or restarting, then the new one.
    const fresh = await theHelper(old.pid);
    assert.notStrictEqual(fresh.pid, old.pid);
    await waitUntil('the log line about the killed helper', () =>
      extensionLog().includes(`The helper (pid ${old.pid}) stopped unexpectedly: signal SIGKILL.`) ? true : undefined,
    );
    // The new process exists before it has answered initialize; the extension logs it once it has.
    await waitUntil(`the log line naming the new helper, pid ${fresh.pid}`, () =>
      extensionLog().includes(`Helper running: pid ${fresh.pid}`) ? true : undefined,
    );
    await waitForNodes('the Programs view listing the kernel through the new helper', views.programs, (nodes) =>
      nodes.some((n) => n.id === 'group:own') && nodes.some((n) => n.id === 'group:others') ? true : undefined,
    );
    const maps = await viewNodes(views.maps);
    assert.ok(
      maps.some((n) => n.id === 'maps:own') && !maps.some((n) => n.id === 'helper-down' || n.id === 'helper-starting'),
      'the Maps view recovered too',
    );
  });
});
