// Task provider `ebpf`: "eBPF: check <file>" runs `ebpf-studio check` (the editor's build + verify) in a
// terminal for each *.bpf.c, with the $ebpf problem matcher (package.json) turning its output into problems.
import * as path from 'path';
import * as vscode from 'vscode';
import { config } from '../../config';
import { Ctx } from '../../ctx';
import { describeCargoProject } from '../../../toolchain/cargo';
import { ayaTaskObject } from '../../../toolchain/aya-object';

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

/** An aya crate built by its `ebpf` task: its object goes to the same Load command as any other. */
async function offerLoad(ctx: Ctx, event: vscode.TaskProcessEndEvent): Promise<void> {
  const task = event.execution.task;
  const definition = task.definition as EbpfTaskDefinition;
  if (definition.type !== 'ebpf' || !definition.crate || event.exitCode !== 0) return;
  const folder =
    typeof task.scope === 'object' ? task.scope.uri.fsPath : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const object = folder ? ayaTaskObject(folder, definition.crate) : undefined;
  if (!object) {
    ctx.log.warn(
      `The aya build of ${definition.crate} succeeded but no object is in target/bpfel-unknown-none/release/.`,
    );
    return;
  }
  const load = 'Load…';
  const answer = await vscode.window.showInformationMessage(
    `Built ${vscode.workspace.asRelativePath(object)}. Load it into the kernel?`,
    load,
  );
  if (answer === load) await vscode.commands.executeCommand('ebpf.loadProgram', vscode.Uri.file(object));
}

export function activate(ctx: Ctx): void {
  ctx.push(
    vscode.tasks.onDidEndTaskProcess((event) => void offerLoad(ctx, event).catch((e) => ctx.log.warn(String(e)))),
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
