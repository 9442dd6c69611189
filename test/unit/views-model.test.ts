import { strict as assert } from 'assert';
import type { LoadedSummary } from '../../extension/protocol/methods';
import type { LinkInfo, MapInfo, ProgramInfo } from '../../extension/protocol/types';
import { mapShape, mapsTree } from '../../extension/host/features/maps/model';
import { ContextValues, helperDownNodes } from '../../extension/host/ui/node';
import { programsTree } from '../../extension/host/features/programs/model';

const own: LoadedSummary = {
  loadId: 'fork_trace',
  name: 'fork_trace',
  path: '/w/fork_trace.bpf.o',
  source: '/w/fork_trace.bpf.c',
  loadedAt: 1_700_000_000_000,
  pinned: false,
  programs: [
    {
      name: 'trace_fork',
      section: 'tracepoint/sched/sched_process_fork',
      type: 'tracepoint',
      loaded: true,
      id: 10,
      stats: { insnsProcessed: 25 },
      attachment: { kind: 'tracepoint', linkId: 3, description: 'sched/sched_process_fork' },
    },
  ],
  maps: [
    { name: 'forks_by_parent', id: 20, type: 'hash', internal: false },
    { name: 'fork_tra.rodata', id: 21, type: 'array', internal: true },
  ],
};

function prog(id: number, name: string, type = 'kprobe'): ProgramInfo {
  return {
    id,
    name,
    type,
    tag: 'abcdef0123456789',
    mapIds: [],
    loadTimeNs: 0,
    uid: 0,
    runCount: 0,
    runTimeNs: 0,
    recursionMisses: 0,
    verifiedInsns: 12,
    xlatedBytes: 96,
    jitedBytes: 64,
    btfId: 0,
    gplCompatible: true,
  };
}

function map(id: number, name: string, type = 'hash'): MapInfo {
  return {
    id,
    name,
    type,
    keySize: 4,
    valueSize: 8,
    maxEntries: 1024,
    flags: 0,
    btfId: 1,
    btfKeyTypeId: 0,
    btfValueTypeId: 0,
  };
}

describe('views model', () => {
  describe('programsTree', () => {
    const programs = [
      prog(10, 'trace_fork', 'tracepoint'),
      prog(5, 'hid_tail_call', 'tracing'),
      prog(2, '', 'cgroup_device'),
    ];
    const links: LinkInfo[] = [{ id: 9, type: 'tracing', progId: 5, target: 'hid_bpf_device_event' }];
    const [loadedHere, others] = programsTree({ loaded: [own], programs, links }, () => 'then');

    it('puts own loads first, with programs (type, id, attach point) and maps', () => {
      assert.equal(loadedHere.label, 'Loaded here');
      const load = loadedHere.children![0];
      assert.equal(load.label, 'fork_trace');
      assert.equal(load.contextValue, ContextValues.ownLoad);
      assert.equal(load.loadId, 'fork_trace');
      assert.match(load.tooltip!, /from \/w\/fork_trace\.bpf\.o\nSource: \/w\/fork_trace\.bpf\.c\nLoaded then/);
      const [p, m, rodata] = load.children!;
      assert.equal(p.label, 'trace_fork');
      assert.equal(p.description, 'tracepoint · id 10 · sched/sched_process_fork');
      assert.match(p.tooltip!, /25 instructions processed/);
      assert.equal(m.description, 'hash map · id 20');
      assert.equal(rodata.icon, 'symbol-variable');
    });

    it('lists other programs without own ids, by id, with attach points from links', () => {
      assert.equal(others.label, 'Other programs on this system');
      assert.equal(others.description, '2 programs');
      const [unnamed, hid] = others.children!;
      assert.equal(unnamed.label, '(unnamed 2)');
      assert.equal(unnamed.children, undefined);
      assert.equal(hid.description, 'tracing · id 5 · hid_bpf_device_event');
      assert.match(hid.tooltip!, /Tag abcdef0123456789/);
      assert.equal(hid.children![0].label, 'hid_bpf_device_event');
      assert.equal(hid.contextValue, ContextValues.program);
    });

    it('offers the load command when nothing is loaded here, and marks pinned loads', () => {
      const [empty] = programsTree({ loaded: [], programs: [], links: [] });
      assert.equal(empty.children![0].command?.command, 'ebpf.loadProgram');
      const [pinned] = programsTree({
        loaded: [{ ...own, pinned: true, path: '', loadedAt: 0 }],
        programs: [],
        links: [],
      });
      const load = pinned.children![0];
      assert.equal(load.contextValue, ContextValues.ownLoadPinned);
      assert.equal(load.description, '1 program · pinned');
      assert.match(load.tooltip!, /found again from its pins/);
    });
  });

  describe('mapsTree', () => {
    const [ownGroup, others] = mapsTree({
      loaded: [own],
      maps: [map(30, 'other'), map(20, 'forks_by_parent'), map(21, 'fork_tra.rodata', 'array')],
    });

    it('lists own maps first with their shape from kernel/maps', () => {
      assert.equal(ownGroup.description, '2 maps');
      const [forks] = ownGroup.children!;
      assert.equal(forks.label, 'forks_by_parent');
      assert.equal(forks.description, 'hash · 4 → 8 B · max 1024 · fork_trace');
      assert.equal(forks.mapId, 20);
      assert.equal(forks.contextValue, ContextValues.ownMap);
    });

    it('then every other map', () => {
      assert.deepEqual(
        others.children!.map((n) => n.label),
        ['other'],
      );
      assert.equal(others.children![0].description, 'hash · 4 → 8 B · max 1024 · id 30');
    });

    it('mapShape reads key → value size and max entries', () => {
      assert.equal(
        mapShape({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 262144 }),
        'ringbuf · 0 → 0 B · max 262144',
      );
    });
  });

  it('helperDownNodes is one item that restarts the helper and says why', () => {
    const [node] = helperDownNodes({ status: 'stopped', reason: 'signal SIGKILL\nmore' });
    assert.equal(node.label, 'helper not running — click to restart');
    assert.equal(node.command?.command, 'ebpf.restartHelper');
    assert.equal(node.description, 'signal SIGKILL');
    assert.equal(helperDownNodes({ status: 'starting' })[0].command, undefined);
  });
});
