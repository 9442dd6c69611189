// Program run-time statistics (command ebpf.toggleStats, "eBPF: Toggle Program Statistics"; context key
// ebpf.stats.enabled). Off by default: while on, the kernel times every program run (BPF_ENABLE_STATS),
// which costs each run a little, as with bpftop. The Programs view then shows runs/s, ns per run and CPU%.
import * as vscode from 'vscode';
import { Ctx } from '../../ctx';
import { HelperClient } from '../../client/client';
import { Methods } from '../../../protocol/methods';

let enabled = false;
const changed = new vscode.EventEmitter<boolean>();
export const onDidChangeStats = changed.event;

export function statsEnabled(): boolean {
  return enabled;
}

function set(value: boolean): void {
  enabled = value;
  void vscode.commands.executeCommand('setContext', 'ebpf.stats.enabled', value);
  changed.fire(value);
}

export function activate(ctx: Ctx): void {
  // The kernel keeps counting only while the helper holds the stats fd: a new helper starts with it off.
  ctx.push(
    changed,
    ctx.onDidChangeHelper(() => enabled && set(false)),
  );
}

export function toggleStats(_ctx: Ctx, helper: HelperClient) {
  return async () => {
    const result = await helper.request(Methods.setStats, { enabled: !enabled });
    set(result.enabled);
    void vscode.window.setStatusBarMessage(
      result.enabled
        ? 'eBPF program statistics on: the kernel now times every program run.'
        : 'eBPF program statistics off.',
      4000,
    );
  };
}
