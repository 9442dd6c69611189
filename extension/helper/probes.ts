// What this kernel accepts, found by loading tiny programs (native/probes/probes.bpf.c) one at a time,
// as cilium's features/ package does: a probe that loads is a fact, a heuristic is not. Cached per helper.
import * as fs from 'fs';
import type { NativeAddon } from '../../native/types';
import { errnoName } from './errors';
import type { Capability } from './protocol';
import { lockdownMode } from './system';

/** Probe program name -> the capability it proves. */
const PROGRAM_PROBES: Record<string, string> = {
  probe_tracepoint: 'program:tracepoint',
  probe_raw_tracepoint: 'program:raw_tracepoint',
  probe_tp_btf: 'program:tp_btf',
  probe_kprobe: 'program:kprobe',
  probe_uprobe: 'program:uprobe',
  probe_fentry: 'program:fentry',
  probe_fexit: 'program:fexit',
  probe_lsm: 'program:lsm',
  probe_perf_event: 'program:perf_event',
  probe_xdp: 'program:xdp',
  probe_tc: 'program:tc',
  probe_socket_filter: 'program:socket_filter',
  probe_cgroup_skb: 'program:cgroup_skb',
  probe_cgroup_sock: 'program:cgroup_sock',
  probe_ringbuf_output: 'map:ringbuf',
};

function refusalReason(errno: number): string {
  if (errno === 1) {
    const lockdown = lockdownMode();
    return lockdown && lockdown !== 'none'
      ? `EPERM: the kernel is in lockdown mode "${lockdown}"`
      : "EPERM: refused by the kernel's security policy (ordinary hosts allow root to load these)";
  }
  if (errno === 22) return 'EINVAL: this kernel does not know this program type or attach point';
  if (errno === 95 || errno === 524) return `${errnoName(errno)}: not supported by this kernel`;
  return errnoName(errno);
}

export async function probeCapabilities(native: NativeAddon, probeObject: string): Promise<Record<string, Capability>> {
  const capabilities: Record<string, Capability> = {};
  for (const [program, capability] of Object.entries(PROGRAM_PROBES)) {
    const outcome = await native.loadObject({ path: probeObject, programs: [program], logLevel: 0 });
    if (outcome.object) {
      outcome.object.close();
      capabilities[capability] = { supported: true };
    } else {
      capabilities[capability] = { supported: false, reason: refusalReason(outcome.error?.errno ?? 0) };
    }
  }
  // Loading a kprobe/uprobe program proves little: attaching needs the perf PMU of that name.
  for (const pmu of ['kprobe', 'uprobe']) {
    capabilities[`attach:${pmu}`] = fs.existsSync(`/sys/bus/event_source/devices/${pmu}`)
      ? { supported: true }
      : { supported: false, reason: `this kernel has no ${pmu} events (CONFIG_${pmu.toUpperCase()}_EVENTS is off)` };
  }
  capabilities['btf:vmlinux'] = fs.existsSync('/sys/kernel/btf/vmlinux')
    ? { supported: true }
    : { supported: false, reason: 'the kernel has no BTF (CONFIG_DEBUG_INFO_BTF): CO-RE and tp_btf/fentry need it' };
  return capabilities;
}
