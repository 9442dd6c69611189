// Adds eBPF: Load Program… (ebpf.loadProgram), eBPF: Unload… (ebpf.unload) and eBPF: Pin (ebpf.pin): build
// a .bpf.c if need be, choose programs, `const volatile` values and attach targets, and load via the helper.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { Cmd, Ctx } from '../../ctx';
import { HelperClient, HelperError } from '../../client/client';
import {
  AttachRequest,
  Capability,
  HelperErrorData,
  LoadedSummary,
  LoadParams,
  Methods,
} from '../../../protocol/methods';
import type { ObjectSpec, ProgramSpec } from '../../../protocol/types';
import { openVerifierLog } from '../verifier-log';
import { buildSource } from '../build';
import { buildFailureSummary } from '../build/options';
import {
  capabilityFor,
  cgroup2Mount,
  defaultRouteInterfaces,
  explainLoadError,
  interfaceDescription,
  InterfaceChoice,
  orderInterfaces,
  loadIdOf,
  loadSuccessMessage,
  parseUprobeTarget,
  preselectProgram,
  refusedPrograms,
  targetNeed,
} from './plan';
import {
  decodeVariable,
  describeType,
  encodeVariable,
  inputHint,
  settableVariables,
  toHex,
  variableBytes,
} from './variables';

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

function readOr(file: string, fallback = ''): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

function networkInterfaces(): InterfaceChoice[] {
  let names: string[];
  try {
    names = fs.readdirSync('/sys/class/net');
  } catch {
    return [];
  }
  const uplinks = defaultRouteInterfaces(readOr('/proc/net/route'), readOr('/proc/net/ipv6_route'));
  const read = (name: string, file: string) => readOr(`/sys/class/net/${name}/${file}`).trim();
  return names.map((name) => ({
    name,
    detail: [read(name, 'operstate'), read(name, 'address')].filter(Boolean).join(' · '),
    defaultRoute: uplinks.has(name),
  }));
}

async function pickInterface(
  ctx: Ctx,
  program: ProgramSpec,
  what: string,
  allowAll: boolean,
): Promise<string | null | undefined> {
  const last = ctx.extension.workspaceState.get<string>('ebpf.lastInterface');
  const interfaces = orderInterfaces(networkInterfaces(), last);
  type Item = vscode.QuickPickItem & { name: string | null };
  const items: Item[] = [
    ...interfaces.map((i) => ({ label: i.name, description: interfaceDescription(i), name: i.name })),
    // "All interfaces" includes the uplink: never the row Enter takes by default.
    ...(allowAll ? [{ label: 'All interfaces', description: 'the uplink too', name: null }] : []),
  ];
  if (items.length === 0) {
    void vscode.window.showErrorMessage('No network interfaces found in /sys/class/net.');
    return undefined;
  }
  const uplinks = interfaces.filter((i) => i.defaultRoute).map((i) => i.name);
  const pick = await vscode.window.showQuickPick(items, {
    title: `Attach ${program.name} (${program.section})`,
    placeHolder:
      `Network interface to attach the ${what} program to` +
      (uplinks.length
        ? ` (${uplinks.join(', ')} carries the default route: a dropping program cuts this machine off)`
        : ''),
    matchOnDescription: true,
  });
  if (pick?.name) await ctx.extension.workspaceState.update('ebpf.lastInterface', pick.name);
  return pick === undefined ? undefined : pick.name;
}

function defaultCgroup(): string {
  try {
    return cgroup2Mount(fs.readFileSync('/proc/mounts', 'utf8')) ?? '/sys/fs/cgroup/unified';
  } catch {
    return '/sys/fs/cgroup/unified';
  }
}

/** Asks for the target of every program whose section does not name one; undefined when cancelled. */
async function askTargets(ctx: Ctx, programs: ProgramSpec[]): Promise<Record<string, AttachRequest> | undefined> {
  const attach: Record<string, AttachRequest> = {};
  for (const program of programs) {
    const need = targetNeed(program);
    const title = `Attach ${program.name} (${program.section})`;
    switch (need.kind) {
      case 'none':
        break;
      case 'xdp': {
        const iface = await pickInterface(ctx, program, 'XDP', false);
        if (!iface) return undefined;
        attach[program.name] = { kind: 'xdp', interface: iface };
        break;
      }
      case 'tc': {
        const iface = await pickInterface(ctx, program, 'tc', false);
        if (!iface) return undefined;
        let direction = need.direction;
        if (!direction) {
          // libbpf's plain "tc"/"classifier" sections do not say which hook; ask.
          const pick = await vscode.window.showQuickPick(
            [
              { label: 'ingress', description: 'packets arriving on the interface', direction: 'ingress' as const },
              { label: 'egress', description: 'packets leaving through the interface', direction: 'egress' as const },
            ],
            { title, placeHolder: `Attach to ${iface}'s ingress or egress hook` },
          );
          if (!pick) return undefined;
          direction = pick.direction;
        }
        attach[program.name] = { kind: 'tc', interface: iface, direction };
        break;
      }
      case 'socket': {
        const iface = await pickInterface(ctx, program, 'socket filter', true);
        if (iface === undefined) return undefined;
        attach[program.name] = iface === null ? { kind: 'socket' } : { kind: 'socket', interface: iface };
        break;
      }
      case 'cgroup': {
        const cgroup = await vscode.window.showInputBox({
          title,
          prompt: 'The cgroup (v2) directory to attach to',
          value: defaultCgroup(),
          ignoreFocusOut: true,
          validateInput: (v) => (v.startsWith('/') ? undefined : 'An absolute path under the cgroup2 mount'),
        });
        if (!cgroup) return undefined;
        attach[program.name] = { kind: 'cgroup', path: cgroup.replace(/\/+$/, '') || '/' };
        break;
      }
      case 'uprobe': {
        const validate = (v: string) => {
          try {
            parseUprobeTarget(v, need.retprobe);
            return undefined;
          } catch (error) {
            return (error as Error).message;
          }
        };
        const target = await vscode.window.showInputBox({
          title,
          prompt: `binary:function to ${need.retprobe ? 'return-probe' : 'probe'} (function+offset or a bare offset work too)`,
          placeHolder: '/usr/bin/bash:readline',
          ignoreFocusOut: true,
          validateInput: validate,
        });
        if (!target) return undefined;
        attach[program.name] = parseUprobeTarget(target, need.retprobe);
        break;
      }
    }
  }
  return attach;
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

/** Own loads to act on: the one given (tree menu) or one the user picks. Never other programs. */
async function pickLoad(
  helper: HelperClient,
  arg: unknown,
  verb: string,
  filter: (l: LoadedSummary) => boolean,
): Promise<LoadedSummary | undefined> {
  const loaded = (await helper.request(Methods.listLoaded)).filter(filter);
  const id = loadIdOf(arg);
  if (id) {
    const found = loaded.find((l) => l.loadId === id);
    if (!found)
      void vscode.window.showWarningMessage(`eBPF Studio holds no load "${id}" to ${verb.toLowerCase()} any more.`);
    return found;
  }
  if (loaded.length === 0) {
    void vscode.window.showInformationMessage(`eBPF Studio has nothing loaded to ${verb.toLowerCase()}.`);
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    loaded.map((l) => ({
      label: l.name,
      description: `${l.programs.filter((p) => p.loaded).length} programs${l.pinned ? ' · pinned' : ''}`,
      detail: l.path,
      load: l,
    })),
    { title: `eBPF: ${verb}`, placeHolder: `What eBPF Studio loaded: pick one to ${verb.toLowerCase()}` },
  );
  return pick?.load;
}

/** ebpf.unload: only what eBPF Studio loaded (listLoaded), optionally given by load id or tree node. */
export function unload(ctx: Ctx, helper: HelperClient): Cmd {
  return async (arg?: unknown) => {
    const target = await pickLoad(helper, arg, 'Unload', () => true);
    if (!target) return;
    await helper.request(Methods.unload, { loadId: target.loadId });
    ctx.kernelStateChanged();
    void vscode.window.showInformationMessage(
      `Unloaded ${target.name}${target.pinned ? ' and removed its pins' : ''}.`,
    );
  };
}

/** ebpf.pin: pins one of eBPF Studio's loads under bpffs, so it outlives the helper. */
export function pin(ctx: Ctx, helper: HelperClient): Cmd {
  return async (arg?: unknown) => {
    const target = await pickLoad(helper, arg, 'Pin', (l) => !l.pinned || loadIdOf(arg) === l.loadId);
    if (!target) return;
    if (target.pinned) {
      void vscode.window.showInformationMessage(`${target.name} is already pinned.`);
      return;
    }
    const pinned = await helper.request(Methods.pin, { loadId: target.loadId });
    ctx.kernelStateChanged();
    void vscode.window.showInformationMessage(
      `Pinned ${pinned.name} under ${helper.info.bpffsPrefix}: it stays loaded when the helper or VS Code stops.`,
    );
  };
}
