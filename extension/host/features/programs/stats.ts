// Program run-time statistics (command ebpf.toggleStats, "eBPF: Toggle Program Statistics"; context key
// ebpf.stats.enabled). Off by default: while on, the kernel times every program run (BPF_ENABLE_STATS),
// which costs each run a little, as with bpftop. The Programs view then shows runs/s, ns per run and CPU%,
// eBPF: Show Program Statistics shows them as a table, and a status bar item says they are on for as
// long as they are (clicking it opens the table).
import * as vscode from 'vscode';
import { Ctx } from '../../ctx';
import { HelperClient } from '../../client/client';
import { Methods } from '../../../protocol/methods';

let enabled = false;
const changed = new vscode.EventEmitter<boolean>();
export const onDidChangeStats = changed.event;
let indicator: vscode.StatusBarItem | undefined;

export function statsEnabled(): boolean {
  return enabled;
}

function set(value: boolean): void {
  enabled = value;
  void vscode.commands.executeCommand('setContext', 'ebpf.stats.enabled', value);
  if (indicator) {
    if (value) indicator.show();
    else indicator.hide();
  }
  changed.fire(value);
}

/** Asks the helper to turn the kernel's statistics on or off; says what changed. */
export async function setStats(helper: HelperClient, value: boolean): Promise<void> {
  const result = await helper.request(Methods.setStats, { enabled: value });
  set(result.enabled);
  void vscode.window.setStatusBarMessage(
    result.enabled
      ? 'eBPF program statistics on: the kernel now times every program run.'
      : 'eBPF program statistics off.',
    4000,
  );
}

export function activate(ctx: Ctx): void {
  indicator = vscode.window.createStatusBarItem('ebpf.stats', vscode.StatusBarAlignment.Left, 9);
  indicator.name = 'eBPF program statistics';
  indicator.text = '$(pulse) eBPF stats on';
  indicator.tooltip =
    'The kernel is timing every BPF program run (BPF_ENABLE_STATS), which costs each run a little. ' +
    'Click for the statistics table; eBPF: Toggle Program Statistics turns them off.';
  indicator.command = 'ebpf.showStats';
  // The kernel keeps counting only while the helper holds the stats fd: a new helper starts with it off.
  ctx.push(
    changed,
    indicator,
    ctx.onDidChangeHelper(() => enabled && set(false)),
  );
}

export function toggleStats(_ctx: Ctx, helper: HelperClient) {
  return async () => {
    await setStats(helper, !enabled);
  };
}
