// Task provider `ebpf`: "eBPF: check <file>" runs `ebpf-studio check` (the editor's build + verify) in a
// terminal for each *.bpf.c, with the $ebpf problem matcher (package.json) turning its output into problems.
import * as path from 'path';
import * as vscode from 'vscode';
import { config } from '../../config';
import { Ctx } from '../../ctx';
import { describeCargoProject } from '../../../toolchain/cargo';

interface EbpfTaskDefinition extends vscode.TaskDefinition {
  type: 'ebpf';
  /** The BPF C file, relative to the workspace folder or absolute. */
  file: string;
  /** Build only, without the helper (no root needed). */
  noVerify?: boolean;
  /** Instead of file: an aya eBPF crate's folder, built with `ebpf-studio build-ebpf`. */
  crate?: string;
}

function ayaTask(ctx: Ctx, definition: EbpfTaskDefinition, scope: vscode.WorkspaceFolder | vscode.TaskScope) {
  const cli = path.join(ctx.extension.extensionPath, 'dist', 'cli.js');
  const cwd = typeof scope === 'object' ? scope.uri.fsPath : undefined;
  const task = new vscode.Task(
    definition,
    scope,
    `build aya crate ${definition.crate}`,
    'ebpf',
    new vscode.ProcessExecution(process.execPath, [cli, 'build-ebpf', definition.crate!], {
      cwd,
      env: { ELECTRON_RUN_AS_NODE: '1' },
    }),
    '$ebpf',
  );
  task.group = vscode.TaskGroup.Build;
  return task;
}

function checkTask(
  ctx: Ctx,
  definition: EbpfTaskDefinition,
  scope: vscode.WorkspaceFolder | vscode.TaskScope,
): vscode.Task {
  const cli = path.join(ctx.extension.extensionPath, 'dist', 'cli.js');
  const args = [
    cli,
    'check',
    ...config.buildIncludeDirs().flatMap((d) => ['-I', d]),
    ...config.buildDefines().flatMap((d) => ['-D', d]),
  ];
  if (definition.noVerify) args.push('--no-verify');
  args.push(definition.file);
  const cwd = typeof scope === 'object' ? scope.uri.fsPath : undefined;
  const task = new vscode.Task(
    definition,
    scope,
    `check ${definition.file}`,
    'ebpf',
    new vscode.ProcessExecution(process.execPath, args, { cwd, env: { ELECTRON_RUN_AS_NODE: '1' } }),
    '$ebpf',
  );
  task.group = vscode.TaskGroup.Build;
  return task;
}

export function activate(ctx: Ctx): void {
  ctx.push(
    vscode.tasks.registerTaskProvider('ebpf', {
      async provideTasks() {
        const sources = await vscode.workspace.findFiles('**/*.bpf.c', '**/node_modules/**');
        const crates = await vscode.workspace.findFiles('**/Cargo.toml', '**/{node_modules,target}/**');
        const ayaCrates = crates.filter((uri) => describeCargoProject(path.dirname(uri.fsPath))?.kind === 'aya-ebpf');
        return [
          ...sources.flatMap((uri) => {
            const folder = vscode.workspace.getWorkspaceFolder(uri);
            if (!folder) return [];
            return [checkTask(ctx, { type: 'ebpf', file: path.relative(folder.uri.fsPath, uri.fsPath) }, folder)];
          }),
          ...ayaCrates.flatMap((uri) => {
            const folder = vscode.workspace.getWorkspaceFolder(uri);
            if (!folder) return [];
            const crate = path.relative(folder.uri.fsPath, path.dirname(uri.fsPath)) || '.';
            return [ayaTask(ctx, { type: 'ebpf', file: '', crate }, folder)];
          }),
        ];
      },
      resolveTask(task) {
        const definition = task.definition as EbpfTaskDefinition;
        if (definition.crate) return ayaTask(ctx, definition, task.scope ?? vscode.TaskScope.Workspace);
        if (!definition.file) return undefined;
        return checkTask(ctx, definition, task.scope ?? vscode.TaskScope.Workspace);
      },
    }),
  );
}
