// eBPF: Install Privileged Helper (ebpf.installHelper) and eBPF: Uninstall Privileged Helper: put the helper,
// root-owned, in /usr/local/lib/ebpf-studio/<version>/ with a sudoers rule or a polkit action for exactly it
// (client/install.ts prepares the root step, installer/ runs it). Through pkexec where a desktop can ask for
// the password, else sudo in a terminal, or directly in root's VS Code. Then the helper restarts from there.
import * as fs from 'fs';
import * as vscode from 'vscode';
import type { Cmd, Ctx } from '../../ctx';
import { RuleKind } from '../../../formats/helper-install';
import {
  defaultRule,
  installerArgs,
  installerCommand,
  InstallerElevation,
  runInstaller,
  uninstallerArgs,
} from '../../client/install';
import { extensionVersion, findInstalledHelper } from '../../client/installed';
import { config } from '../../config';

const RULES: Record<RuleKind, vscode.QuickPickItem> = {
  sudoers: {
    label: 'sudoers rule',
    description: 'no password; works in remote sessions and code-server',
    detail: 'Writes /etc/sudoers.d/ebpf-studio-<you>, checked with visudo, for the installed helper only.',
  },
  polkit: {
    label: 'polkit action',
    description: 'an administrator password, kept for a few minutes; desktops',
    detail: 'Writes /usr/share/polkit-1/actions/org.ebpfstudio.helper.policy for the installed helper only.',
  },
};

function exists(file: string): boolean {
  return fs.existsSync(file);
}

async function pickRule(): Promise<RuleKind | undefined> {
  const setting = config.helperElevation();
  if (setting === 'sudo') return 'sudoers';
  if (setting === 'pkexec') return 'polkit';
  const first = defaultRule();
  const order: RuleKind[] = first === 'polkit' ? ['polkit', 'sudoers'] : ['sudoers', 'polkit'];
  const pick = await vscode.window.showQuickPick(
    order.map((rule) => ({ ...RULES[rule], rule })),
    { title: 'eBPF Studio: how may your user start the installed helper as root?' },
  );
  return pick?.rule;
}

/** Runs the root step and resolves true when it succeeded. */
async function runRootStep(ctx: Ctx, dist: string, args: string[], title: string): Promise<boolean> {
  const root = process.geteuid?.() === 0;
  const desktop = Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
  const how: InstallerElevation = root
    ? 'direct'
    : desktop && (exists('/usr/bin/pkexec') || exists('/bin/pkexec'))
      ? 'pkexec'
      : 'sudo';
  const cmd = installerCommand(how, dist, args);
  ctx.log.info(`${title}: ${cmd.command} ${cmd.args.join(' ')}`);
  if (how === 'sudo') {
    // sudo asks for the password on a terminal: run it in one (no shell) and wait for it to end.
    const terminal = vscode.window.createTerminal({ name: title, shellPath: cmd.command, shellArgs: cmd.args });
    terminal.show();
    const code = await new Promise<number | undefined>((resolve) => {
      const listener = vscode.window.onDidCloseTerminal((t) => {
        if (t !== terminal) return;
        listener.dispose();
        resolve(t.exitStatus?.code);
      });
    });
    return code === 0;
  }
  const run = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `${title}…` },
    () => runInstaller(cmd),
  );
  if (run.code !== 0) {
    const why = run.stderr.trim().split('\n').slice(-3).join(' ');
    ctx.log.error(`${title} failed (exit ${run.code}): ${why}`);
    void vscode.window.showErrorMessage(
      run.code === 126 && how === 'pkexec'
        ? 'Authentication was cancelled: nothing was installed.'
        : `${title}: ${why}`,
    );
    return false;
  }
  ctx.log.info(`${title}: ${run.stdout.trim()}`);
  return true;
}

export function installHelper(ctx: Ctx): Cmd {
  return async () => {
    const dist = `${ctx.extension.extensionPath}/dist`;
    const rule = await pickRule();
    if (!rule) return;
    let args: string[];
    try {
      args = installerArgs({ dist, rule });
    } catch (error) {
      void vscode.window.showErrorMessage(`eBPF Studio cannot install its helper: ${(error as Error).message}`);
      return;
    }
    if (!(await runRootStep(ctx, dist, args, 'Install eBPF Studio helper'))) return;
    // Believe the files, not the exit code: the same checks as every start.
    try {
      const installed = findInstalledHelper(extensionVersion(ctx.helperScript));
      ctx.log.info(`Installed helper: ${installed.launcher}`);
    } catch (error) {
      void vscode.window.showErrorMessage((error as Error).message);
      return;
    }
    void vscode.window.showInformationMessage('The eBPF Studio helper is installed; starting it from there.');
    await ctx.restartHelper();
  };
}

export function uninstallHelper(ctx: Ctx): Cmd {
  return async () => {
    const remove = 'Uninstall';
    const pick = await vscode.window.showWarningMessage(
      'Remove the installed eBPF Studio helper and the sudoers/polkit rule that names it?',
      { modal: true, detail: 'Without it, eBPF Studio runs its helper only when VS Code itself runs as root.' },
      remove,
    );
    if (pick !== remove) return;
    const dist = `${ctx.extension.extensionPath}/dist`;
    if (await runRootStep(ctx, dist, uninstallerArgs({}), 'Uninstall eBPF Studio helper'))
      void vscode.window.showInformationMessage('The eBPF Studio helper was uninstalled.');
  };
}
