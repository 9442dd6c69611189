// eBPF: Load Program… (ebpf.loadProgram), run by the extension host: build a .bpf.c if need be, choose
// programs, `const volatile` values and attach targets (targets.ts), and load via the helper. eBPF: Unload…
// and eBPF: Pin are in manage.ts; main.ts registers the feature's three commands from here.
import * as path from 'path';
import * as vscode from 'vscode';
import type { Cmd, Ctx } from '../../ctx';
import { HelperClient, HelperError } from '../../client/client';
import { Capability, LoadedSummary, LoadParams, Methods } from '../../../protocol/methods';
import { HelperErrorData } from '../../../protocol/errors';
import type { ObjectSpec, ProgramSpec } from '../../../protocol/types';
import { openVerifierLog } from '../verifier-log';
import { buildSource } from '../build';
import { buildFailureSummary } from '../build/options';
import { capabilityFor, explainLoadError, loadSuccessMessage, preselectProgram, refusedPrograms } from './plan';
import {
  decodeVariable,
  describeType,
  encodeVariable,
  inputHint,
  settableVariables,
  toHex,
  variableBytes,
} from './variables';
import { askTargets } from './targets';

const BROWSE = '$(folder-opened) Browse…';

/** ebpf.loadProgram: the argument is a Uri from the explorer or editor menus, else the user picks a file. */
export function loadProgram(ctx: Ctx, helper: HelperClient): Cmd {
  return async (arg?: unknown) => {
    const file = arg instanceof vscode.Uri ? arg : await pickObjectFile();
    if (!file) return;
    let objectPath = file.fsPath;
    let source: string | undefined;
    if (objectPath.endsWith('.c')) {
      source = objectPath;
      const built = await buildForLoad(ctx, file);
      if (!built) return;
      objectPath = built;
    }
    const spec = await helper.request(Methods.describe, { path: objectPath });
    if (spec.programs.length === 0) {
      void vscode.window.showErrorMessage(
        `${path.basename(objectPath)} holds no BPF programs (no SEC("...") functions).`,
      );
      return;
    }
    const caps = await helper.request(Methods.capabilities).catch((): Record<string, Capability> => ({}));
    const programs = await pickPrograms(spec, caps);
    if (!programs) return;
    const variables = await askVariables(spec);
    if (!variables) return;
    const attach = await askTargets(ctx, programs);
    if (!attach) return;
    await load(ctx, helper, spec, {
      path: objectPath,
      programs: programs.map((p) => p.name),
      variables: Object.keys(variables).length > 0 ? variables : undefined,
      attach: Object.keys(attach).length > 0 ? attach : undefined,
      source,
    });
  };
}

async function pickObjectFile(): Promise<vscode.Uri | undefined> {
  const found = await vscode.workspace.findFiles('**/*.bpf.{o,c}', '**/node_modules/**', 1000);
  const active = vscode.window.activeTextEditor?.document.uri.fsPath;
  found.sort((a, b) => Number(b.fsPath === active) - Number(a.fsPath === active) || a.fsPath.localeCompare(b.fsPath));
  type Item = vscode.QuickPickItem & { uri?: vscode.Uri };
  const items: Item[] = [
    ...found.map((uri) => ({
      label: path.basename(uri.fsPath),
      description: vscode.workspace.asRelativePath(path.dirname(uri.fsPath)),
      detail: uri.fsPath.endsWith('.c') ? 'Built with clang first' : undefined,
      uri,
    })),
    { label: BROWSE, alwaysShow: true },
  ];
  const pick = await vscode.window.showQuickPick(items, {
    title: 'eBPF: Load Program',
    placeHolder:
      found.length > 0 ? 'A BPF object (.bpf.o) or source (.bpf.c) to load' : 'No *.bpf.o or *.bpf.c in this workspace',
    matchOnDescription: true,
  });
  if (!pick) return undefined;
  if (pick.uri) return pick.uri;
  const chosen = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Load',
    filters: { 'BPF objects and sources': ['o', 'c'], 'All files': ['*'] },
  });
  return chosen?.[0];
}

/** Builds a source for loading; on failure shows the diagnostics and an error, and returns undefined. */
async function buildForLoad(ctx: Ctx, source: vscode.Uri): Promise<string | undefined> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === source.fsPath);
  if (open?.isDirty) await open.save();
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Building ${path.basename(source.fsPath)}…` },
    () => buildSource(ctx, source),
  );
  if (result.ok) return result.objectPath;
  const pick = await vscode.window.showErrorMessage(
    `Build failed, nothing was loaded: ${buildFailureSummary(result.diagnostics, result.stderr)}`,
    'Show Problems',
    'Show Log',
  );
  if (pick === 'Show Problems') void vscode.commands.executeCommand('workbench.actions.view.problems');
  else if (pick === 'Show Log') ctx.log.show();
  return undefined;
}

/**
 * The programs this kernel can run are picked by default; those it cannot are listed with why, unpicked
 * (Enter must not load what is known to fail), and stay pickable.
 */
async function pickPrograms(spec: ObjectSpec, caps: Record<string, Capability>): Promise<ProgramSpec[] | undefined> {
  if (spec.programs.length === 1) return spec.programs;
  type Item = vscode.QuickPickItem & { program: ProgramSpec };
  const items: Item[] = spec.programs.map((program) => {
    const cap = capabilityFor(caps, program);
    return {
      label: program.name,
      description: `${program.section} · ${program.type}`,
      detail:
        cap && !cap.supported ? `$(warning) This kernel cannot run it: ${cap.reason ?? 'not supported'}` : undefined,
      picked: preselectProgram(program, cap),
      program,
    };
  });
  const runnable = items.filter((i) => i.picked).length;
  const picks = await vscode.window.showQuickPick(items, {
    title: `Load ${spec.name}: programs`,
    placeHolder:
      runnable === items.length
        ? 'Programs to load (all by default)'
        : runnable === 0
          ? 'This kernel can run none of these programs: pick any to try anyway'
          : 'Programs to load (those this kernel can run are picked)',
    canPickMany: true,
    matchOnDescription: true,
  });
  if (!picks) return undefined;
  if (picks.length === 0) {
    void vscode.window.showInformationMessage('No program picked: nothing was loaded.');
    return undefined;
  }
  return picks.map((p) => p.program);
}

/** One input box per `const volatile` variable; returns only the changed ones, as hex. */
async function askVariables(spec: ObjectSpec): Promise<Record<string, string> | undefined> {
  const settable = settableVariables(spec.variables).filter((v) => v.size > 0);
  const values: Record<string, string> = {};
  for (const [index, variable] of settable.entries()) {
    const initial = variableBytes(variable.initial as unknown, variable.size);
    const initialHex = toHex(initial);
    let text = decodeVariable(variable.type, initial);
    for (;;) {
      const typed = await vscode.window.showInputBox({
        title: `Load ${spec.name}: const volatile variables (${index + 1}/${settable.length})`,
        prompt: `${variable.name}: ${describeType(variable.type)}, ${inputHint(variable.type)}. Enter keeps the value shown; Escape cancels the load.`,
        value: text,
        ignoreFocusOut: true,
        validateInput: (value) => {
          try {
            encodeVariable(variable.type, value);
            return undefined;
          } catch (error) {
            return (error as Error).message;
          }
        },
      });
      if (typed === undefined) return undefined;
      try {
        const hex = encodeVariable(variable.type, typed);
        if (hex !== initialHex) values[variable.name] = hex;
        break;
      } catch (error) {
        // validateInput normally prevents this; a bad value is never loaded, the user is asked again.
        await vscode.window.showErrorMessage(`${variable.name}: ${(error as Error).message}`);
        text = typed;
      }
    }
  }
  return values;
}

/** Loads under a progress notification; a refused program type can be left out and the rest retried. */
async function load(ctx: Ctx, helper: HelperClient, spec: ObjectSpec, first: LoadParams): Promise<void> {
  let params = first;
  for (;;) {
    let summary: LoadedSummary;
    try {
      summary = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Loading ${spec.name}…` },
        () => helper.request(Methods.load, params),
      );
    } catch (error) {
      if (!(error instanceof HelperError)) throw error;
      ctx.log.error(`Load of ${params.path} failed: ${error.message} ${JSON.stringify(error.data)}`);
      const retry = await explainFailure(ctx, spec, params, error.data, error.message);
      if (!retry) return;
      params = retry;
      continue;
    }
    ctx.kernelStateChanged();
    ctx.log.info(loadSuccessMessage(summary));
    void vscode.window.showInformationMessage(loadSuccessMessage(summary));
    return;
  }
}

/** Shows the error; returns the parameters to retry with when the user chose "Load the others". */
async function explainFailure(
  ctx: Ctx,
  spec: ObjectSpec,
  params: LoadParams,
  data: HelperErrorData,
  message: string,
): Promise<LoadParams | undefined> {
  switch (data.kind) {
    case 'NotSupported': {
      const selected = spec.programs.filter((p) => params.programs?.includes(p.name) ?? true);
      const refused = refusedPrograms(data.feature, message, selected);
      const others = selected.map((p) => p.name).filter((name) => !refused.includes(name));
      const buttons = refused.length > 0 && others.length > 0 ? ['Load the others'] : [];
      const pick = await vscode.window.showErrorMessage(explainLoadError(data, message, refused), ...buttons);
      if (pick !== 'Load the others') return undefined;
      const attach =
        params.attach && Object.fromEntries(Object.entries(params.attach).filter(([name]) => others.includes(name)));
      // skipRefused: should the kernel refuse another type too, the helper leaves it out and reports it
      // instead of failing again, so one "Load the others" is enough.
      return { ...params, programs: others, attach, skipRefused: true };
    }
    case 'VerifierRejected': {
      const pick = await vscode.window.showErrorMessage(explainLoadError(data, message), 'Show Log');
      if (pick) await openVerifierLog(data.program, params.source ?? spec.path, 'rejected', data.log);
      return undefined;
    }
    default: {
      const pick = await vscode.window.showErrorMessage(explainLoadError(data, message), 'Show Log');
      if (pick) ctx.log.show();
      return undefined;
    }
  }
}
