// What this kernel accepts, found by asking it, as cilium's features/ package does: a probe that loads,
// attaches or creates is a fact, a heuristic is not. Program types load tiny programs
// (native/probes/probes.bpf.c) one at a time; attach types attach those that attach without a target
// and detach at once; map types create a map; helpers load a program that calls them. Cached per helper.
import * as fs from 'fs';
import type { LoadedObject, NativeAddon } from '../../native/types';
import { errnoName } from './errors';
import type { Capability } from '../protocol/methods';
import { lockdownMode } from './system';

/** Probe program name -> the capability it proves. Keys are stable: the load plan and views use them. */
export const PROGRAM_PROBES: Record<string, string> = {
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
  probe_cgroup_sock_addr: 'program:cgroup_sock_addr',
  probe_cgroup_sockopt: 'program:cgroup_sockopt',
  probe_cgroup_sysctl: 'program:cgroup_sysctl',
  probe_sock_ops: 'program:sock_ops',
  probe_sk_skb: 'program:sk_skb',
  probe_sk_msg: 'program:sk_msg',
  probe_sk_lookup: 'program:sk_lookup',
  probe_flow_dissector: 'program:flow_dissector',
  probe_iter: 'program:iter',
};

/** Programs that attach without a target: attaching them (and detaching at once) proves the attach type. */
export const ATTACH_PROBES: Record<string, string> = {
  probe_tracepoint: 'attach:tracepoint',
  probe_raw_tracepoint: 'attach:raw_tracepoint',
  probe_tp_btf: 'attach:tp_btf',
  probe_kprobe: 'attach:kprobe',
  probe_fentry: 'attach:fentry',
  probe_fexit: 'attach:fexit',
  probe_lsm: 'attach:lsm',
};

export const MAP_PROBES = [
  'hash',
  'array',
  'percpu_hash',
  'percpu_array',
  'lru_hash',
  'lru_percpu_hash',
  'lpm_trie',
  'perf_event_array',
  'ringbuf',
  'user_ringbuf',
  'stack_trace',
  'queue',
  'stack',
  'bloom_filter',
  'array_of_maps',
  'hash_of_maps',
  'devmap',
  'cpumap',
  'xskmap',
  'sockmap',
  'sockhash',
  'sk_storage',
  'task_storage',
  'inode_storage',
  'cgrp_storage',
];

/** Helper -> the program type it is probed with (the kind of program that typically calls it). */
export const HELPER_PROBES: Record<string, string> = {
  map_lookup_elem: 'socket_filter',
  ringbuf_output: 'kprobe',
  ringbuf_reserve: 'kprobe',
  perf_event_output: 'kprobe',
  probe_read_kernel: 'kprobe',
  probe_read_user: 'kprobe',
  get_current_task: 'kprobe',
  get_current_task_btf: 'kprobe',
  get_current_cgroup_id: 'kprobe',
  ktime_get_ns: 'kprobe',
  ktime_get_boot_ns: 'kprobe',
  trace_printk: 'kprobe',
  get_stackid: 'kprobe',
  skb_load_bytes: 'socket_filter',
  skb_cgroup_id: 'sched_cls',
  xdp_adjust_head: 'xdp',
  redirect: 'xdp',
  redirect_map: 'xdp',
  fib_lookup: 'xdp',
  send_signal: 'kprobe',
  override_return: 'kprobe',
  loop: 'kprobe',
  get_func_ip: 'kprobe',
  sk_storage_get: 'cgroup_skb',
  task_storage_get: 'kprobe',
  probe_write_user: 'kprobe',
};

/** Why the kernel said no, in words a user can act on. */
export function refusalReason(errno: number, lockdown = lockdownMode()): string {
  if (errno === 1) {
    return lockdown && lockdown !== 'none'
      ? `EPERM: the kernel is in lockdown mode "${lockdown}"`
      : "EPERM: refused by the kernel's security policy (ordinary hosts allow root to load these)";
  }
  if (errno === 22) return 'EINVAL: this kernel does not know this program type or attach point';
  if (errno === 95 || errno === 524) return `${errnoName(errno)}: not supported by this kernel`;
  return errnoName(errno);
}

async function probePrograms(
  native: NativeAddon,
  probeObject: string,
  capabilities: Record<string, Capability>,
): Promise<void> {
  for (const [program, capability] of Object.entries(PROGRAM_PROBES)) {
    const outcome = await native.loadObject({ path: probeObject, programs: [program], logLevel: 0 });
    if (!outcome.object) {
      capabilities[capability] = { supported: false, reason: refusalReason(outcome.error?.errno ?? 0) };
      const attach = ATTACH_PROBES[program];
      if (attach)
        capabilities[attach] = {
          supported: false,
          reason: `cannot load the program to attach: ${capabilities[capability].reason}`,
        };
      continue;
    }
    capabilities[capability] = { supported: true };
    const attach = ATTACH_PROBES[program];
    if (attach) capabilities[attach] = probeAttach(outcome.object, program, attach);
    outcome.object.close();
  }
}

function probeAttach(object: LoadedObject, program: string, capability: string): Capability {
  try {
    object.attach(program, { kind: 'auto' }).detach();
    return { supported: true };
  } catch (error) {
    const errno = (error as { errno?: number }).errno ?? 0;
    if (capability === 'attach:kprobe' && !fs.existsSync('/sys/bus/event_source/devices/kprobe')) {
      return {
        supported: false,
        reason:
          'this kernel has no kprobe events (CONFIG_KPROBE_EVENTS is off): kprobe programs load but cannot attach',
      };
    }
    return { supported: false, reason: `${refusalReason(errno)} (${(error as Error).message})` };
  }
}

function probeMaps(native: NativeAddon, capabilities: Record<string, Capability>): void {
  for (const type of MAP_PROBES) {
    let result: number;
    try {
      result = native.probeMapType(type);
    } catch (error) {
      capabilities[`map:${type}`] = {
        supported: false,
        reason: `libbpf ${native.libbpfVersion()} does not know this map type`,
      };
      continue;
    }
    capabilities[`map:${type}`] =
      result === 1
        ? { supported: true }
        : {
            supported: false,
            reason: result === 0 ? 'this kernel does not know this map type' : refusalReason(-result),
          };
  }
}

function probeHelpers(native: NativeAddon, capabilities: Record<string, Capability>): void {
  const known = new Set(native.probeHelperNames());
  for (const [helper, programType] of Object.entries(HELPER_PROBES)) {
    if (!known.has(helper)) continue;
    const key = `helper:bpf_${helper}`;
    let result: number;
    try {
      result = native.probeHelper(programType, helper);
    } catch (error) {
      capabilities[key] = { supported: false, reason: (error as Error).message };
      continue;
    }
    capabilities[key] =
      result === 1
        ? { supported: true, reason: `offered to ${programType} programs` }
        : {
            supported: false,
            reason:
              result === 0
                ? `the verifier does not offer bpf_${helper} to ${programType} programs on this kernel`
                : `${programType} programs cannot be loaded to ask: ${refusalReason(-result)}`,
          };
  }
}

export async function probeCapabilities(native: NativeAddon, probeObject: string): Promise<Record<string, Capability>> {
  const capabilities: Record<string, Capability> = {};
  await probePrograms(native, probeObject, capabilities);
  // Loading a uprobe program proves little: attaching needs the perf PMU of that name.
  capabilities['attach:uprobe'] = fs.existsSync('/sys/bus/event_source/devices/uprobe')
    ? { supported: true }
    : { supported: false, reason: 'this kernel has no uprobe events (CONFIG_UPROBE_EVENTS is off)' };
  probeMaps(native, capabilities);
  probeHelpers(native, capabilities);
  capabilities['btf:vmlinux'] = fs.existsSync('/sys/kernel/btf/vmlinux')
    ? { supported: true }
    : { supported: false, reason: 'the kernel has no BTF (CONFIG_DEBUG_INFO_BTF): CO-RE and tp_btf/fentry need it' };
  return capabilities;
}
