// Adds eBPF: Check System (ebpf.checkSystem): a page with the kernel, BTF, bpffs/tracefs, lockdown, build
// tools, privileges and the helper's probe table (what loads here and why not), with command links to
// mount (restart the helper) and to check again. Works while the helper is down, saying so.
import * as crypto from 'crypto';
import * as vscode from 'vscode';
import { config } from '../../config';
import type { Cmd, Ctx } from '../../ctx';
import { gatherSystemFacts } from './source';
import { buildSystemReport, renderSystemPage, summarize } from './model';

let panel: vscode.WebviewPanel | undefined;

export function checkSystem(ctx: Ctx): Cmd {
  return async () => {
    const client = ctx.helper;
    const state = ctx.helperState;
    const facts = await gatherSystemFacts(
      client ? { client } : { reason: state.status === 'stopped' ? state.reason : `it is ${state.status}` },
      {
        clangPath: config.clangPath(),
      },
    );
    const sections = buildSystemReport(facts);
    for (const line of summarize(sections)) ctx.log.info(`Check System: ${line}`);
    if (!panel) {
      panel = vscode.window.createWebviewPanel('ebpf.checkSystem', 'eBPF: Check System', vscode.ViewColumn.Active, {
        enableCommandUris: ['ebpf.checkSystem', 'ebpf.restartHelper'],
        enableScripts: false,
      });
      panel.onDidDispose(() => (panel = undefined));
    } else {
      panel.reveal();
    }
    panel.webview.html = renderSystemPage(sections, crypto.randomBytes(16).toString('base64'), panel.webview.cspSource);
  };
}
