// The load dialog's attach targets (extension host): for each program whose section names no target, an
// interface (XDP, tc, socket), a cgroup or a uprobe's binary:function, as formats/attach-needs.ts decides.
import * as fs from 'fs';
import * as vscode from 'vscode';
import type { Ctx } from '../../ctx';
import type { AttachRequest } from '../../../protocol/methods';
import type { ProgramSpec } from '../../../protocol/types';
import { targetNeed } from '../../../formats/attach-needs';
import {
  cgroup2Mount,
  defaultRouteInterfaces,
  interfaceDescription,
  InterfaceChoice,
  orderInterfaces,
  parseUprobeTarget,
} from './plan';

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
export async function askTargets(
  ctx: Ctx,
  programs: ProgramSpec[],
): Promise<Record<string, AttachRequest> | undefined> {
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
