// The extension's entry: builds the one context, registers the command table and activates each feature.
// Commands that need the helper are swapped by the context for an explanation while it is not running.
import * as vscode from 'vscode';
import { CommandFactory, Ctx } from './ctx';
import * as bpftrace from './features/bpftrace';
import * as build from './features/build';
import * as checkSystem from './features/check-system';
import * as instructions from './features/instructions';
import * as languageClient from './features/language-client';
import * as loadCommands from './features/load';
import * as loadManage from './features/load/manage';
import * as mapViewer from './features/map-viewer';
import * as mapsView from './features/maps';
import * as mapCommands from './features/maps/commands';
import * as packetTests from './features/packet-tests';
import * as programsView from './features/programs';
import * as stats from './features/programs/stats';
import * as statsTable from './features/programs/stats-table';
import * as tasks from './features/build/tasks';
import * as tracePanel from './features/trace-panel';
import * as verifierLog from './features/verifier-log';
import * as verifierDebug from './features/verifier-debug';
import * as lineHeat from './features/line-heat';
import * as verifierFixes from './features/verifier-fixes';
import * as installHelper from './features/install-helper';
import * as rustLines from './features/rust-lines';
import type { ViewNode } from './ui/node';

/** Every command of package.json contributes.commands, and the handler behind it. */
const commands: Record<string, CommandFactory> = {
  'ebpf.loadProgram': { helper: loadCommands.loadProgram },
  'ebpf.unload': { helper: loadManage.unload },
  'ebpf.pin': { helper: loadManage.pin },
  'ebpf.restartHelper': { always: (ctx) => () => ctx.restartHelper() },
  'ebpf.refresh': { always: (ctx) => () => ctx.kernelStateChanged() },
  'ebpf.showOutput': { always: (ctx) => () => ctx.log.show() },
  'ebpf.build': { always: () => languageClient.buildActiveFile() },
  'ebpf.showVerifierLog': { always: verifierLog.showVerifierLog },
  'ebpf.showInstructions': { helper: instructions.showInstructions },
  'ebpf.configureClangd': { always: build.configureClangd },
  'ebpf.checkSystem': { always: checkSystem.checkSystem },
  'ebpf.openMap': { helper: mapViewer.openMap },
  'ebpf.showTrace': { always: tracePanel.showTrace },
  'ebpf.clearTrace': { always: tracePanel.clearTrace },
  'ebpf.streamEvents': { helper: tracePanel.streamEvents },
  'ebpf.toggleStats': { helper: stats.toggleStats },
  'ebpf.revealMaps': { helper: programsView.revealMaps },
  'ebpf.openSource': { helper: programsView.openSource },
  'ebpf.exportMap': { helper: mapCommands.exportMap },
  'ebpf.plotMap': { helper: mapViewer.plotMap },
  'ebpf.showMapUsers': { helper: mapCommands.showMapUsers },
  'ebpf.showStats': { helper: statsTable.showStats },
  'ebpf.debugVerifier': { always: verifierDebug.debugVerifier },
  'ebpf.showLineHeat': { always: lineHeat.showLineHeat },
  'ebpf.runBpftrace': { helper: bpftrace.runBpftrace },
  'ebpf.stopBpftrace': { helper: bpftrace.stopBpftrace },
  'ebpf.installHelper': { always: installHelper.installHelper },
  'ebpf.uninstallHelper': { always: installHelper.uninstallHelper },
};

let ctx: Ctx | undefined;

/**
 * What activate() returns: the Programs and Maps views' data providers, so the integration tests
 * (test/integration/) can read what the views show. Not an API for other extensions.
 */
export interface TestApi {
  programs: vscode.TreeDataProvider<ViewNode>;
  maps: vscode.TreeDataProvider<ViewNode>;
}

export async function activate(context: vscode.ExtensionContext): Promise<TestApi> {
  ctx = new Ctx(context);
  ctx.registerCommands(commands);
  verifierLog.activate(ctx);
  instructions.activate(ctx);
  // The language server builds on save and the tasks run clang: not before the workspace is trusted.
  ctx.whenTrusted(() => languageClient.activate(ctx!));
  ctx.whenTrusted(() => tasks.activate(ctx!));
  stats.activate(ctx);
  const programs = programsView.activate(ctx);
  const maps = mapsView.activate(ctx);
  tracePanel.activate(ctx);
  packetTests.activate(ctx);
  verifierDebug.activate(ctx);
  lineHeat.activate(ctx);
  verifierFixes.activate(ctx);
  bpftrace.activate(ctx);
  // Verifying a Rust file's object loads it into the verifier: not before the workspace is trusted.
  ctx.whenTrusted(() => rustLines.activate(ctx!));
  // Not awaited: a pkexec dialog may wait for the user, and activation must not.
  void ctx.startHelper();
  return { programs, maps };
}

export async function deactivate(): Promise<void> {
  // Stops the helper: what is not pinned leaves the kernel with it.
  await ctx?.dispose();
  ctx = undefined;
}
