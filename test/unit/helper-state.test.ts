import { strict as assert } from 'assert';
import type { InitializeResult } from '../../extension/protocol/methods';
import { CrashPolicy, exitReason, helperIdentity, statusView } from '../../extension/host/helper-state';

const info: InitializeResult = {
  protocolVersion: 1,
  pid: 4242,
  uid: 0,
  kernelRelease: '6.1.0',
  libbpfVersion: '1.1',
  bpffsPrefix: '/sys/fs/bpf/ebpf-studio',
  mounts: {},
};

describe('helper-state', () => {
  it('statusView says who the helper runs as and how it was elevated', () => {
    const view = statusView({ status: 'running', info, via: 'sudo' });
    assert.equal(view.text, '$(pulse) eBPF: helper running (root via sudo)');
    assert.equal(view.command, 'ebpf.showOutput');
    assert.match(view.tooltip, /pid 4242/);
    assert.equal(helperIdentity(info, 'direct'), 'root');
    assert.equal(helperIdentity({ uid: 1000 }, 'none'), 'uid 1000, no elevation');
  });

  it('statusView offers a restart when the helper is not running', () => {
    const view = statusView({ status: 'stopped', reason: 'sudo refused' });
    assert.equal(view.text, '$(error) eBPF: helper not running');
    assert.equal(view.command, 'ebpf.restartHelper');
    assert.equal(view.error, true);
    assert.match(view.tooltip, /sudo refused/);
  });

  it('exitReason names the signal, else the exit code', () => {
    assert.equal(exitReason({ code: null, signal: 'SIGKILL' }), 'signal SIGKILL');
    assert.equal(exitReason({ code: 3, signal: null }), 'exit code 3');
  });

  describe('CrashPolicy', () => {
    it('restarts with growing delays and gives up at the third crash within 60 s', () => {
      const policy = new CrashPolicy();
      assert.deepEqual(policy.recordCrash(0), { action: 'restart', delayMs: 500 });
      assert.deepEqual(policy.recordCrash(10_000), { action: 'restart', delayMs: 1000 });
      assert.deepEqual(policy.recordCrash(20_000), { action: 'giveUp', crashes: 3 });
    });

    it('forgets crashes older than the window', () => {
      const policy = new CrashPolicy();
      policy.recordCrash(0);
      policy.recordCrash(1000);
      assert.deepEqual(policy.recordCrash(60_500), { action: 'restart', delayMs: 1000 });
    });

    it('starts afresh after reset (a restart the user asked for)', () => {
      const policy = new CrashPolicy();
      policy.recordCrash(0);
      policy.recordCrash(1);
      policy.reset();
      assert.deepEqual(policy.recordCrash(2), { action: 'restart', delayMs: 500 });
    });
  });
});
