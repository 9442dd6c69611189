// What a new user meets first (issue 11): the load dialog's defaults (programs this kernel can run,
// the interface picker's order), Check System's BTF row, Show Verifier Log's choices, and a tracepoint's
// attach point as a restarted helper describes it.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  defaultRouteInterfaces,
  interfaceDescription,
  orderInterfaces,
  preselectProgram,
} from '../../extension/host/features/load/plan';
import { btfUsers, buildSystemReport, SystemFacts } from '../../extension/host/features/check-system/model';
import { verdictPicks, verdictPickTitle } from '../../extension/host/features/verifier-log/picks';
import { linkDescription } from '../../extension/helper/registry';
import { tracepointCategories } from '../../extension/helper/tracepoints';

// Captured on this VM: eth0 carries both default routes; lo has IPv6's "unreachable" default.
const ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
`;
const ROUTE6 = `fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003    wlan0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
`;

describe('load dialog defaults', () => {
  it('preselects only the programs this kernel can run (container_guard: both LSM programs refused)', () => {
    const refused = { supported: false, reason: "EPERM: refused by the kernel's security policy" };
    assert.equal(preselectProgram({ autoload: true }, refused), false);
    assert.equal(preselectProgram({ autoload: true }, { supported: true }), true);
    assert.equal(preselectProgram({ autoload: true }, undefined), true, 'not probed: trust the object');
    assert.equal(preselectProgram({ autoload: false }, { supported: true }), false, 'autoload off stays off');
  });

  it('finds the interfaces carrying a default route, IPv4 and IPv6, not the unreachable one on lo', () => {
    assert.deepEqual([...defaultRouteInterfaces(ROUTE, ROUTE6)].sort(), ['eth0', 'wlan0']);
    assert.deepEqual([...defaultRouteInterfaces(ROUTE.split('\n')[0])], []);
  });

  it('orders test interfaces first and the uplink last, even when the uplink was used last', () => {
    const uplinks = defaultRouteInterfaces(ROUTE);
    const names = ['eth0', 'ifb0', 'lo', 'veth-test1', 'enp3s0'].map((name) => ({
      name,
      detail: 'up',
      defaultRoute: uplinks.has(name),
    }));
    const order = orderInterfaces(names, 'eth0').map((i) => i.name);
    assert.deepEqual(order, ['ifb0', 'veth-test1', 'lo', 'enp3s0', 'eth0']);
    assert.equal(order[0] === 'eth0', false, 'Enter never takes the default-route interface');
    // The last one used leads its own rank.
    assert.deepEqual(
      orderInterfaces(names, 'veth-test1').map((i) => i.name),
      ['veth-test1', 'ifb0', 'lo', 'enp3s0', 'eth0'],
    );
    assert.match(interfaceDescription({ name: 'eth0', detail: 'up', defaultRoute: true }), /default route/);
    assert.doesNotMatch(interfaceDescription({ name: 'lo', detail: 'up', defaultRoute: false }), /default route/);
  });
});

describe('Check System: kernel BTF row', () => {
  const facts = (capabilities?: SystemFacts['capabilities']): SystemFacts => ({
    helper: { running: false, reason: 'test' },
    kernelRelease: '6.18.0',
    btfPresent: true,
    tools: [],
    capabilities,
  });
  const btfRow = (f: SystemFacts) =>
    buildSystemReport(f)
      .flatMap((s) => s.rows)
      .find((r) => r.label === 'Kernel BTF')!.value;

  it('does not promise fentry when the probes say the kernel refuses it', () => {
    const refused = { supported: false, reason: 'EPERM' };
    const value = btfRow(
      facts({
        'program:tp_btf': { supported: true },
        'program:fentry': refused,
        'program:fexit': refused,
        'program:lsm': refused,
      }),
    );
    assert.match(value, /tp_btf can use it/);
    assert.match(value, /fentry, fexit, lsm would too, but this kernel refuses them/);
    assert.doesNotMatch(value, /fentry can use it/);
  });

  it('says what is unknown without the helper, and names fentry when it is accepted', () => {
    assert.match(btfUsers(undefined), /not probed/);
    assert.match(btfUsers({ 'program:fentry': { supported: true } }), /fentry can use it/);
  });
});

describe('Show Verifier Log picker', () => {
  const programs = [
    {
      program: 'good',
      section: 'tp/a/b',
      file: 'a.bpf.c',
      line: 3,
      status: 'verified' as const,
      stats: { insnsProcessed: 12 },
    },
    {
      program: 'bad',
      section: 'xdp',
      file: 'a.bpf.c',
      line: 9,
      status: 'rejected' as const,
      message: "R0 invalid mem access 'map_value_or_null'",
      log: '',
    },
    { program: 'lsm_prog', section: 'lsm/x', file: 'a.bpf.c', line: 20, status: 'refused' as const, message: 'EPERM' },
  ];

  it('puts the rejected program first and says why for each', () => {
    const picks = verdictPicks(programs);
    assert.deepEqual(
      picks.map((p) => p.program),
      ['bad', 'lsm_prog', 'good'],
    );
    assert.match(picks[0].description, /rejected by the verifier/);
    assert.equal(picks[0].detail, "R0 invalid mem access 'map_value_or_null'");
    assert.match(picks[2].description, /verified · tp\/a\/b · 12 instructions processed/);
    assert.equal(verdictPickTitle('x.bpf.c', programs), 'Verifier log of x.bpf.c: bad was rejected');
  });
});

describe('attach point of a tracepoint link after a helper restart', () => {
  let events: string;
  before(() => {
    // A tracefs events directory as the kernel lays it out: <category>/<name>/id.
    events = fs.mkdtempSync(path.join(os.tmpdir(), 'tracefs-events-'));
    for (const [category, name] of [
      ['sched', 'sched_process_fork'],
      ['sched', 'sched_process_exec'],
      ['syscalls', 'sys_enter_openat'],
      ['a', 'twice'],
      ['b', 'twice'],
    ]) {
      fs.mkdirSync(path.join(events, category, name), { recursive: true });
      fs.writeFileSync(path.join(events, category, name, 'id'), '1\n');
    }
  });
  after(() => fs.rmSync(events, { recursive: true, force: true }));

  it('keeps the category the kernel does not report (tracepoint/sched/sched_process_fork)', () => {
    const link = { id: 3, progId: 7, type: 'perf_event', target: 'sched_process_fork', attachType: '' };
    assert.equal(linkDescription(link, events), 'tracepoint/sched/sched_process_fork');
    assert.equal(linkDescription(link), 'tracepoint/sched_process_fork', 'without tracefs, the name alone');
  });

  it('guesses no category for a name in two, and leaves other link types alone', () => {
    assert.deepEqual(tracepointCategories(events, 'twice').sort(), ['a', 'b']);
    assert.equal(
      linkDescription({ id: 1, progId: 1, type: 'perf_event', target: 'twice', attachType: '' }, events),
      'tracepoint/twice',
    );
    assert.equal(
      linkDescription({ id: 1, progId: 1, type: 'raw_tracepoint', target: 'sched_switch', attachType: '' }, events),
      'raw_tracepoint/sched_switch',
    );
  });
});
