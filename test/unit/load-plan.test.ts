import { strict as assert } from 'assert';
import type { LoadedSummary, ProgramReport } from '../../extension/protocol/methods';
import {
  capabilityFor,
  cgroup2Mount,
  explainLoadError,
  loadIdOf,
  loadSuccessMessage,
  parseUprobeTarget,
  refusedPrograms,
  targetNeed,
} from '../../extension/host/features/load/plan';

const program = (name: string, type: string, expectedAttachType = '') => ({
  name,
  type,
  expectedAttachType,
  section: '',
});

function summary(programs: ProgramReport[], extra: Partial<LoadedSummary> = {}): LoadedSummary {
  return {
    loadId: 'fork_trace',
    name: 'fork_trace',
    path: '/w/fork_trace.bpf.o',
    loadedAt: 1,
    pinned: false,
    programs,
    maps: [],
    ...extra,
  };
}

describe('load-plan', () => {
  describe('targetNeed', () => {
    const need = (section: string, type: string) => targetNeed({ section, type });

    it('asks for an interface for xdp, tc and socket sections', () => {
      assert.deepEqual(need('xdp', 'xdp'), { kind: 'xdp' });
      assert.deepEqual(need('xdp.frags', 'xdp'), { kind: 'xdp' });
      assert.deepEqual(need('socket', 'socket_filter'), { kind: 'socket' });
    });

    it('asks tc for a direction only when the section does not give one', () => {
      assert.deepEqual(need('tc', 'sched_cls'), { kind: 'tc' });
      assert.deepEqual(need('classifier', 'sched_cls'), { kind: 'tc' });
      assert.deepEqual(need('tc/ingress', 'sched_cls'), { kind: 'tc', direction: 'ingress' });
      assert.deepEqual(need('tcx/egress', 'sched_cls'), { kind: 'tc', direction: 'egress' });
    });

    it('asks for a cgroup for cgroup and sockops sections', () => {
      assert.deepEqual(need('cgroup_skb/ingress', 'cgroup_skb'), { kind: 'cgroup' });
      assert.deepEqual(need('cgroup/connect4', 'cgroup_sock_addr'), { kind: 'cgroup' });
      assert.deepEqual(need('sockops', 'sock_ops'), { kind: 'cgroup' });
    });

    it('asks for binary:function only for uprobes whose section lacks it', () => {
      assert.deepEqual(need('uprobe', 'kprobe'), { kind: 'uprobe', retprobe: false });
      assert.deepEqual(need('uretprobe', 'kprobe'), { kind: 'uprobe', retprobe: true });
      assert.deepEqual(need('uprobe//usr/bin/bash:readline', 'kprobe'), { kind: 'none' });
      assert.deepEqual(need('uretprobe.s//lib/libc.so.6:malloc', 'kprobe'), { kind: 'none' });
    });

    it('needs nothing for sections that name their target or attach without one', () => {
      assert.deepEqual(need('tracepoint/sched/sched_process_fork', 'tracepoint'), { kind: 'none' });
      assert.deepEqual(need('fentry/do_unlinkat', 'tracing'), { kind: 'none' });
      assert.deepEqual(need('kprobe/do_sys_open', 'kprobe'), { kind: 'none' });
      assert.deepEqual(need('xdp/devmap', 'xdp'), { kind: 'none' });
    });
  });

  describe('parseUprobeTarget', () => {
    it('parses binary:function, +offset and bare offsets', () => {
      assert.deepEqual(parseUprobeTarget('/usr/bin/bash:readline', false), {
        kind: 'uprobe',
        binary: '/usr/bin/bash',
        func: 'readline',
        retprobe: false,
      });
      assert.deepEqual(parseUprobeTarget(' /lib/libc.so.6:malloc+0x10 ', true), {
        kind: 'uprobe',
        binary: '/lib/libc.so.6',
        func: 'malloc',
        offset: 16,
        retprobe: true,
      });
      assert.deepEqual(parseUprobeTarget('/bin/x:0x1234', false), {
        kind: 'uprobe',
        binary: '/bin/x',
        offset: 0x1234,
        retprobe: false,
      });
    });

    it('refuses what is not binary:function', () => {
      assert.throws(() => parseUprobeTarget('readline', false), /is not binary:function/);
      assert.throws(() => parseUprobeTarget('bash:readline', false), /must be an absolute path/);
      assert.throws(() => parseUprobeTarget('/bin/bash:read-line', false), /is not a function name/);
    });
  });

  it('cgroup2Mount prefers /sys/fs/cgroup/unified, else the first cgroup2 mount', () => {
    const hybrid = 'cgroup /sys/fs/cgroup/cpu cgroup rw 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n';
    const unified = 'proc /proc proc rw 0 0\ncgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n';
    assert.equal(cgroup2Mount(hybrid), '/sys/fs/cgroup/unified');
    assert.equal(cgroup2Mount(unified), '/sys/fs/cgroup');
    assert.equal(cgroup2Mount('proc /proc proc rw 0 0\n'), undefined);
  });

  it("capabilityFor maps program types to the helper's probe keys", () => {
    const caps = {
      'program:tc': { supported: true },
      'program:fentry': { supported: false, reason: 'EPERM: lockdown' },
      'program:uprobe': { supported: true },
      'attach:uprobe': { supported: false, reason: 'no uprobe events' },
      'program:xdp': { supported: true },
    };
    assert.deepEqual(capabilityFor(caps, { section: 'tc', type: 'sched_cls', expectedAttachType: '' }), {
      supported: true,
    });
    assert.equal(
      capabilityFor(caps, { section: 'fentry/x', type: 'tracing', expectedAttachType: 'trace_fentry' })?.reason,
      'EPERM: lockdown',
    );
    assert.equal(
      capabilityFor(caps, { section: 'uprobe', type: 'kprobe', expectedAttachType: '' })?.reason,
      'no uprobe events',
    );
    assert.equal(capabilityFor(caps, { section: 'lsm/x', type: 'lsm', expectedAttachType: 'lsm_mac' }), undefined);
    // A type that loads but cannot attach here reports the attach probe's reason.
    const attachCaps = {
      'program:tracepoint': { supported: true },
      'attach:tracepoint': { supported: false, reason: 'EPERM: perf_event_paranoid' },
      'program:iter': { supported: true },
    };
    assert.equal(
      capabilityFor(attachCaps, { section: 'tracepoint/a/b', type: 'tracepoint', expectedAttachType: '' })?.reason,
      'EPERM: perf_event_paranoid',
    );
    assert.deepEqual(
      capabilityFor(attachCaps, { section: 'iter/task', type: 'tracing', expectedAttachType: 'trace_iter' }),
      { supported: true },
    );
  });

  describe('refusedPrograms', () => {
    const selected = [
      program('on_fork', 'tracepoint'),
      program('on_open', 'tracing', 'trace_fentry'),
      program('on_exit', 'tracing', 'trace_fexit'),
    ];

    it('finds every program of the refused type', () => {
      assert.deepEqual(
        refusedPrograms('tracing (trace_fentry) programs', 'Cannot load on_open (SEC("fentry/x")): ...', selected),
        ['on_open'],
      );
      assert.deepEqual(refusedPrograms('tracing programs', 'x', selected), ['on_open', 'on_exit']);
    });

    it('falls back to the program the message names', () => {
      assert.deepEqual(
        refusedPrograms('attaching xdp', 'Cannot attach on_fork: the kernel refused (EPERM)', selected),
        ['on_fork'],
      );
      assert.deepEqual(refusedPrograms('kprobes', 'no program named here', selected), []);
    });
  });

  describe('loadSuccessMessage', () => {
    const fork: ProgramReport = {
      name: 'trace_fork',
      section: 'tracepoint/sched/sched_process_fork',
      type: 'tracepoint',
      loaded: true,
      id: 42,
      stats: {},
      attachment: { kind: 'tracepoint', linkId: 7, description: 'sched/sched_process_fork' },
    };

    it('says what was attached where', () => {
      assert.equal(
        loadSuccessMessage(summary([fork])),
        'Loaded fork_trace: 1 program attached (tracepoint sched/sched_process_fork)',
      );
    });

    it('names programs left unattached and refused', () => {
      const xdp: ProgramReport = {
        name: 'pass',
        section: 'xdp',
        type: 'xdp',
        loaded: true,
        id: 43,
        stats: {},
        attachNote: 'loaded, not attached: needs an interface',
      };
      const lsm: ProgramReport = {
        name: 'deny',
        section: 'lsm/x',
        type: 'lsm',
        loaded: false,
        id: 0,
        stats: {},
        attachNote: 'EPERM',
      };
      assert.equal(
        loadSuccessMessage(summary([fork, xdp, lsm], { pinned: true })),
        'Loaded fork_trace: 1 program attached (tracepoint sched/sched_process_fork), ' +
          '1 program loaded but not attached (pass: needs an interface), 1 program refused by the kernel (deny), pinned',
      );
    });

    it("reads an auto attachment's section text as kind and target", () => {
      const auto: ProgramReport = {
        ...fork,
        attachment: { kind: 'auto', linkId: 1, description: 'tracepoint/sched/sched_process_fork' },
      };
      assert.equal(
        loadSuccessMessage(summary([auto])),
        'Loaded fork_trace: 1 program attached (tracepoint sched/sched_process_fork)',
      );
    });

    it('reads network attachments as "xdp on lo"', () => {
      const x: ProgramReport = { ...fork, attachment: { kind: 'xdp', linkId: 1, description: 'lo (xdp)' } };
      assert.equal(loadSuccessMessage(summary([x])), 'Loaded fork_trace: 1 program attached (xdp on lo)');
    });

    it('does not repeat a kind the description already starts with', () => {
      const x: ProgramReport = { ...fork, attachment: { kind: 'xdp', linkId: 1, description: 'xdp on eth0' } };
      assert.equal(loadSuccessMessage(summary([x])), 'Loaded fork_trace: 1 program attached (xdp on eth0)');
    });
  });

  describe('explainLoadError', () => {
    it('explains a refused program type with the errno and the reason', () => {
      const text = explainLoadError(
        {
          kind: 'NotSupported',
          feature: 'lsm (lsm_mac) programs',
          reason: 'EPERM: likely cause: the kernel is in lockdown mode "integrity"',
        },
        'Cannot load deny (SEC("lsm/file_open")): this kernel refuses lsm (lsm_mac) programs with EPERM.',
        ['deny'],
      );
      assert.equal(
        text,
        'Cannot load deny: this kernel refuses lsm (lsm_mac) programs (EPERM). Likely cause: the kernel is in lockdown mode "integrity".',
      );
    });

    it("keeps the helper's message for other refusals and plain errors", () => {
      assert.equal(
        explainLoadError({ kind: 'NotSupported', feature: 'kprobes', reason: 'r' }, 'Cannot attach x: no kprobes.'),
        'Cannot attach x: no kprobes.',
      );
      assert.equal(
        explainLoadError({ kind: 'NotFound', what: '/bin/nope' }, 'No such binary for the uprobe: /bin/nope'),
        'No such binary for the uprobe: /bin/nope',
      );
    });

    it("gives the verifier's message", () => {
      const data = {
        kind: 'VerifierRejected' as const,
        program: 'p',
        message: 'R1 invalid mem access',
        log: '...',
        errno: 13,
      };
      assert.equal(explainLoadError(data, 'oops'), 'The verifier rejected p: R1 invalid mem access');
    });
  });

  it('loadIdOf takes a load id or a tree node carrying one', () => {
    assert.equal(loadIdOf('fork_trace'), 'fork_trace');
    assert.equal(loadIdOf({ id: 'load:x', loadId: 'x' }), 'x');
    assert.equal(loadIdOf(undefined), undefined);
    assert.equal(loadIdOf({ loadId: 3 }), undefined);
  });
});
