// A bpftrace run as the host sees it, fed with bpftrace 0.17 output captured on this machine
// (test/unit/fixtures/bpftrace/) cut into chunks at every possible place, as pipes deliver it.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { BpftraceSession } from '../../extension/host/features/bpftrace/session';
import { Methods, Notifications } from '../../extension/protocol/methods';
import { BpftraceOutputNotification } from '../../extension/protocol/bpftrace';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, 'fixtures', 'bpftrace', name), 'utf8');

/** The helper's side of one run: answers bpftrace/run and delivers notifications to the listeners. */
function fakeHelper() {
  const listeners = new Set<(n: BpftraceOutputNotification) => void>();
  return {
    send: (n: BpftraceOutputNotification) => [...listeners].forEach((l) => l(n)),
    helper: {
      request: (async (type: { method: string }, params: { path: string }) => {
        assert.equal(type.method, Methods.bpftraceRun.method);
        return { run: 7, pid: 1234, path: params.path, startedAt: 0 };
      }) as never,
      onNotification: ((type: { method: string }, handler: (n: BpftraceOutputNotification) => void) => {
        assert.equal(type.method, Notifications.bpftrace.method);
        listeners.add(handler);
        return { dispose: () => listeners.delete(handler) };
      }) as never,
    },
  };
}

describe('bpftrace session', () => {
  it('turns chunked -f json output into whole printf lines, maps at exit and the exit', async () => {
    const stdout = fixture('misc.stdout');
    for (const cut of [1, 7, 33, stdout.length - 1]) {
      const { helper, send } = fakeHelper();
      const session = await BpftraceSession.start(helper, '/tmp/misc.bt');
      const lines: string[] = [];
      const exits: unknown[] = [];
      session.onText = (l) => lines.push(...l);
      session.onExit = (result) => exits.push(result);
      send({ run: 8, stdout: 'not ours\n' });
      send({ run: 7, stdout: stdout.slice(0, cut) });
      send({ run: 7, stdout: stdout.slice(cut), stderr: 'misc.bt:1:1-2: WARNING: something\n' });
      send({ run: 7, exit: { exitCode: 0, signal: null } });
      assert.ok(lines.includes('in END'), `cut at ${cut}: ${JSON.stringify(lines)}`);
      assert.ok(lines.includes('Linux'));
      assert.ok(!lines.includes('not ours'));
      assert.deepEqual(session.maps.get('@k')?.entries, [
        { key: '1', value: 4 },
        { key: '2', value: 9 },
      ]);
      assert.equal(session.maps.get('@k')?.atExit, true);
      assert.deepEqual(exits, [{ exitCode: 0, signal: null }]);
      assert.equal(session.running, false);
      assert.equal(session.name, 'bpftrace:misc.bt');
    }
  });

  it('keeps a printf without newline until the rest of its line or the exit', async () => {
    const { helper, send } = fakeHelper();
    const session = await BpftraceSession.start(helper, '/tmp/p.bt');
    const lines: string[][] = [];
    session.onText = (l) => lines.push(l);
    send({ run: 7, stdout: fixture('printf.stdout') });
    assert.deepEqual(lines.flat(), ['hello 42 world', 'no newlinetwo', 'lines']);
    send({ run: 7, stdout: '{"type": "printf", "data": "tail"}\n' });
    send({ run: 7, exit: { exitCode: 0, signal: null } });
    assert.deepEqual(lines.flat().slice(3), ['tail']);
  });
});
