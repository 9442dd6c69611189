// Check System against the real kernel: every row of the probe table agrees with what actually loads
// here. Each sample (and the fentry fixture) is loaded verify-only; a program type the table calls
// supported must load, one it refuses must be refused with the same errno. Nothing is hard-coded for
// this machine: the expectations branch on the kernel's real behaviour.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { HelperError } from '../../../extension/host/client/client';
import { Methods } from '../../../extension/protocol/methods';
import { gatherSystemFacts } from '../../../extension/host/features/check-system/source';
import { buildSystemReport } from '../../../extension/host/features/check-system/model';
import { buildObject, samplePath } from '../../support/kernel';
import { sampleSuite } from './sample-env';

/** Objects whose programs prove a capability each: [source, program, capability key]. */
const PROVERS: [string, string, string][] = [
  [samplePath('fork_trace'), 'trace_fork', 'program:tracepoint'],
  [samplePath('syscall_latency'), 'on_sys_enter', 'program:raw_tracepoint'],
  [samplePath('xdp_counter'), 'count_packets', 'program:xdp'],
  [samplePath('tc_blocklist'), 'drop_blocked', 'program:tc'],
  [samplePath('sock_filter'), 'count_bytes', 'program:socket_filter'],
  [samplePath('cgroup_skb'), 'count_egress', 'program:cgroup_skb'],
  [samplePath('uprobe_malloc'), 'malloc_enter', 'program:uprobe'],
  [samplePath('execsnoop'), 'trace_exec', 'map:ringbuf'],
  [samplePath('container_guard'), 'deny_chroot', 'program:lsm'],
  [path.join(__dirname, '..', 'fixtures', 'mixed_types.bpf.c'), 'watch_unlink', 'program:fentry'],
];

describe('Check System on the real kernel', function () {
  const suite = sampleSuite('fork_trace');

  for (const [source, program, key] of PROVERS) {
    it(`${key} says what loading ${path.basename(source)}:${program} does`, async () => {
      const client = suite.client();
      const capability = (await client.request(Methods.capabilities))[key];
      assert.ok(capability, `the probe table has a ${key} row`);
      const object = await buildObject(source);
      let refusal: HelperError | undefined;
      try {
        await client.request(Methods.load, { path: object, programs: [program], verifyOnly: true });
      } catch (error) {
        if (!(error instanceof HelperError)) throw error;
        refusal = error;
      }
      if (capability.supported) {
        assert.equal(refusal, undefined, `${key} is supported, yet ${program} was refused: ${refusal?.message}`);
      } else {
        assert.ok(refusal, `${key} is refused (${capability.reason}), yet ${program} loaded`);
        assert.equal(refusal.data.kind, 'NotSupported', refusal.message);
        const errno = /^(E[A-Z]+)/.exec(capability.reason ?? '')?.[1];
        assert.ok(
          errno && refusal.message.includes(`with ${errno}`),
          `the same errno: table "${capability.reason}", load "${refusal.message}"`,
        );
      }
    });
  }

  it('says why kprobes cannot attach exactly when the kernel has no kprobe events', async () => {
    const caps = await suite.client().request(Methods.capabilities);
    const kprobeEvents = fs.existsSync('/sys/bus/event_source/devices/kprobe');
    if (!kprobeEvents) {
      assert.equal(caps['attach:kprobe'].supported, false);
      assert.match(caps['attach:kprobe'].reason ?? '', /CONFIG_KPROBE_EVENTS/);
    } else {
      // With kprobe events the probe attached to do_unlinkat for real (unless its program was refused).
      assert.equal(caps['attach:kprobe'].supported, caps['program:kprobe'].supported);
    }
    assert.equal(caps['attach:uprobe'].supported, fs.existsSync('/sys/bus/event_source/devices/uprobe'));
    assert.equal(caps['attach:tracepoint'].supported, caps['program:tracepoint'].supported);
    assert.equal(caps['btf:vmlinux'].supported, fs.existsSync('/sys/kernel/btf/vmlinux'));
  });

  it('probes once per helper: the table gives the same answers each time', async () => {
    const client = suite.client();
    const first = await client.request(Methods.capabilities);
    const again = await client.request(Methods.capabilities);
    assert.deepEqual(again, first);
    for (const prefix of ['program:', 'attach:', 'map:', 'helper:']) {
      assert.ok(
        Object.keys(first).some((k) => k.startsWith(prefix)),
        `the table has ${prefix} rows`,
      );
    }
    for (const [key, cap] of Object.entries(first)) {
      if (!cap.supported)
        assert.ok(cap.reason && cap.reason.length > 10, `${key} is refused with a reason (${cap.reason})`);
    }
    // The helpers the samples call are offered wherever their program types load.
    if (first['program:kprobe'].supported)
      assert.equal(first['helper:bpf_ringbuf_reserve'].supported, first['map:ringbuf'].supported);
    if (first['program:socket_filter'].supported) assert.equal(first['helper:bpf_skb_load_bytes'].supported, true);
  });

  it('shows the probe table and the system facts on the page', async () => {
    const client = suite.client();
    const facts = await gatherSystemFacts({ client });
    const sections = buildSystemReport(facts);
    const row = (section: string, label: string) =>
      sections.find((s) => s.title.startsWith(section))?.rows.find((r) => r.label === label);
    const caps = facts.capabilities!;
    for (const key of ['tracepoint', 'lsm', 'xdp']) {
      const shown = row('Program types', key);
      assert.ok(shown, `a Program types row for ${key}`);
      assert.equal(shown.state, caps[`program:${key}`].supported ? 'ok' : 'error');
      if (!caps[`program:${key}`].supported) assert.equal(shown.value, `no: ${caps[`program:${key}`].reason}`);
    }
    assert.equal(row('System', 'Kernel')?.value, client.info.kernelRelease);
    assert.equal(row('System', 'Kernel BTF')?.state, fs.existsSync('/sys/kernel/btf/vmlinux') ? 'ok' : 'error');
    assert.equal(row('System', 'Privileges')?.state, 'ok');
    assert.equal(row('Build tools', 'clang')?.state, 'ok');
    assert.equal(row('Build tools', 'bpftool')?.state, 'ok');
    const mounts = sections[0].rows.filter((r) => /^(bpffs|tracefs) at /.test(r.label));
    assert.equal(mounts.length, 2);
    assert.ok(
      mounts.every((m) => m.state === 'ok' && !m.action),
      'both are mounted here, so nothing to offer',
    );
  });
});
