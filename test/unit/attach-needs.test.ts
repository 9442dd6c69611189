// The one attach-needs rule (formats/attach-needs.ts): what the helper's load report says a program needs
// and what the load dialog asks for are read from the same classification.
import { strict as assert } from 'assert';
import fc from 'fast-check';
import { attachNeed, attachNeedWords, autoAttachable, targetNeed } from '../../extension/formats/attach-needs';

const need = (section: string, type: string) => attachNeed({ section, type });

describe('attach-needs', () => {
  it('sections libbpf attaches by itself need nothing', () => {
    for (const [section, type] of [
      ['tracepoint/sched/sched_process_fork', 'tracepoint'],
      ['tp/syscalls/sys_enter_openat', 'tracepoint'],
      ['raw_tp/sched_switch', 'raw_tracepoint'],
      ['fentry/do_unlinkat', 'tracing'],
      ['lsm/file_open', 'lsm'],
      ['kprobe/do_sys_open', 'kprobe'],
      ['kretprobe.multi/vfs_*', 'kprobe'],
      ['iter/task', 'tracing'],
      ['uprobe//usr/bin/bash:readline', 'kprobe'],
      ['uretprobe.s//lib/libc.so.6:malloc', 'kprobe'],
      ['usdt//usr/lib/libc.so.6:libc:setjmp', 'kprobe'],
    ]) {
      assert.equal(autoAttachable(section), true, section);
      assert.deepEqual(need(section, type), { kind: 'auto' }, section);
      assert.deepEqual(targetNeed({ section, type }), { kind: 'none' }, section);
      assert.equal(attachNeedWords(section, type), undefined, section);
    }
  });

  it('xdp, tc and socket programs need an interface; tc a direction when the section gives none', () => {
    assert.deepEqual(need('xdp', 'xdp'), { kind: 'xdp' });
    assert.deepEqual(need('xdp.frags', 'xdp'), { kind: 'xdp' });
    assert.deepEqual(need('socket', 'socket_filter'), { kind: 'socket' });
    assert.deepEqual(need('tc', 'sched_cls'), { kind: 'tc' });
    assert.deepEqual(need('classifier', 'sched_cls'), { kind: 'tc' });
    assert.deepEqual(need('action', 'sched_act'), { kind: 'tc' });
    assert.deepEqual(need('tc/ingress', 'sched_cls'), { kind: 'tc', direction: 'ingress' });
    assert.deepEqual(need('tcx/egress', 'sched_cls'), { kind: 'tc', direction: 'egress' });
    assert.equal(attachNeedWords('xdp', 'xdp'), 'an interface (XDP)');
    assert.equal(attachNeedWords('tc', 'sched_cls'), 'an interface and a direction (tc)');
    assert.equal(attachNeedWords('tcx/ingress', 'sched_cls'), 'an interface (tc ingress)');
    assert.equal(attachNeedWords('socket', 'socket_filter'), 'an interface to open a socket on');
  });

  it('cgroup and sockops programs need a cgroup v2 directory', () => {
    for (const [section, type] of [
      ['cgroup_skb/ingress', 'cgroup_skb'],
      ['cgroup/connect4', 'cgroup_sock_addr'],
      ['sockops', 'sock_ops'],
    ]) {
      assert.deepEqual(need(section, type), { kind: 'cgroup' }, section);
      assert.equal(attachNeedWords(section, type), 'a cgroup v2 directory');
    }
  });

  it('a bare uprobe needs a binary and a function; one naming them does not', () => {
    assert.deepEqual(need('uprobe', 'kprobe'), { kind: 'uprobe', retprobe: false });
    assert.deepEqual(need('uretprobe', 'kprobe'), { kind: 'uprobe', retprobe: true });
    assert.deepEqual(need('uprobe.s', 'kprobe'), { kind: 'uprobe', retprobe: false });
    assert.equal(attachNeedWords('uretprobe', 'kprobe'), 'a binary and a function (uprobe)');
    assert.deepEqual(targetNeed({ section: 'uprobe', type: 'kprobe' }), { kind: 'uprobe', retprobe: false });
  });

  it('devmap/cpumap XDP programs run from a map entry: the dialog asks nothing, the report says why', () => {
    assert.deepEqual(need('xdp/devmap', 'xdp'), { kind: 'map-entry' });
    assert.deepEqual(need('xdp.frags/cpumap', 'xdp'), { kind: 'map-entry' });
    assert.deepEqual(targetNeed({ section: 'xdp/devmap', type: 'xdp' }), { kind: 'none' });
    assert.match(attachNeedWords('xdp/devmap', 'xdp')!, /devmap or cpumap entry/);
  });

  it('what no picker exists for is "none" in the dialog and named as such in the report', () => {
    for (const [section, type] of [
      ['kprobe', 'kprobe'],
      ['netkit/primary', 'sched_cls'],
      ['usdt', 'kprobe'],
      ['struct_ops/x', 'struct_ops'],
    ]) {
      assert.deepEqual(need(section, type), { kind: 'unnamed' }, section);
      assert.deepEqual(targetNeed({ section, type }), { kind: 'none' }, section);
      assert.equal(attachNeedWords(section, type), 'a target this section does not name');
    }
  });

  it('for any section: words exactly when not auto-attached, and the dialog asks only for what needs a target', () => {
    const head = fc.constantFrom(
      'xdp',
      'xdp.frags',
      'tc',
      'tcx',
      'classifier',
      'action',
      'socket',
      'cgroup',
      'cgroup_skb',
      'sockops',
      'uprobe',
      'uretprobe',
      'uprobe.s',
      'usdt',
      'kprobe',
      'tracepoint',
      'fentry',
      'lsm',
      'iter',
      'netkit',
      'foo',
    );
    const type = fc.constantFrom(
      'xdp',
      'sched_cls',
      'sched_act',
      'socket_filter',
      'cgroup_skb',
      'sock_ops',
      'kprobe',
      'tracing',
    );
    const rest = fc.constantFrom('', '/ingress', '/egress', '/devmap', '//bin/sh:main', '/x', '/x:y');
    fc.assert(
      fc.property(head, rest, type, (h, r, t) => {
        const section = h + r;
        const n = attachNeed({ section, type: t });
        assert.equal(n.kind === 'auto', attachNeedWords(section, t) === undefined);
        const dialog = targetNeed({ section, type: t });
        if (dialog.kind !== 'none') assert.deepEqual(dialog, n);
        else assert.ok(['auto', 'map-entry', 'unnamed'].includes(n.kind), `${section} (${t}): ${n.kind}`);
      }),
    );
  });
});
