// Shared by the integration tests inside the extension host: the extension under test, the data its
// views show (activate() returns the Programs and Maps tree providers, extension/host/main.ts TestApi), its
// helper process, its settings and its log file.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { TestApi } from '../../extension/host/main';
import type { ViewNode } from '../../extension/host/ui/node';
import { helperProcesses, ProcessEntry, waitUntil } from '../e2e/support/system';

export const extensionId = 'ebpf-studio.ebpf-studio';

export function extension(): vscode.Extension<TestApi> {
  const ext = vscode.extensions.getExtension<TestApi>(extensionId);
  assert.ok(ext, `${extensionId} is not among the extensions of this host`);
  return ext;
}

/** Activates the extension (it activates by itself on bpf-samples/) and returns what activate() returned. */
export async function api(): Promise<TestApi> {
  const exports = await extension().activate();
  assert.ok(exports?.programs && exports.maps, 'activate() returns the Programs and Maps tree providers');
  return exports;
}

/** Every node of a view, depth first, with the children of groups (not lazy map entries). */
export async function viewNodes(tree: vscode.TreeDataProvider<ViewNode>): Promise<ViewNode[]> {
  const out: ViewNode[] = [];
  const walk = async (node?: ViewNode) => {
    const children = node?.lazy ? [] : ((await tree.getChildren(node)) ?? []);
    for (const child of children) {
      out.push(child);
      await walk(child);
    }
  };
  await walk();
  return out;
}

/**
 * Refreshes the views (eBPF: Refresh) and reads them until `probe` finds what it looks for in the nodes
 * of `tree`; the helper answers each refresh, so this waits for the kernel state it reports.
 */
export async function waitForNodes<T>(
  what: string,
  tree: vscode.TreeDataProvider<ViewNode>,
  probe: (nodes: ViewNode[]) => T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  let last: ViewNode[] = [];
  try {
    return await waitUntil(
      what,
      async () => {
        await vscode.commands.executeCommand('ebpf.refresh');
        last = await viewNodes(tree);
        return probe(last);
      },
      timeoutMs,
    );
  } catch (error) {
    const shown = last.map((n) => `${n.label}${n.description ? ` (${n.description})` : ''}`).join('; ');
    throw new Error(`${(error as Error).message}; the view showed: ${shown}`, { cause: error });
  }
}

/** The one helper process of this extension host (its dist/helper.js, not a sudo wrapper). */
/** The one helper process of this extension host (`from`: an install root, for an installed helper). */
export async function theHelper(exclude?: number, from?: string): Promise<ProcessEntry> {
  const extensionPath = from ?? extension().extensionPath;
  return waitUntil(`the helper process of ${extensionPath}${exclude ? ` other than pid ${exclude}` : ''}`, () => {
    const found = helperProcesses(extensionPath).filter((p) => p.pid !== exclude && descendsFrom(p.pid, process.pid));
    return found.length === 1 ? found[0] : undefined;
  });
}

/** Whether `pid` is a descendant of `ancestor`, from /proc/<pid>/stat. */
export function descendsFrom(pid: number, ancestor: number): boolean {
  for (let p = parentOf(pid); p !== undefined && p > 1; p = parentOf(p)) if (p === ancestor) return true;
  return false;
}

export function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

export function commandName(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * The extension's log ("eBPF Studio" output channel) as written to disk. code-server keeps it under the
 * user-data dir, which the runner passes in EBPF_STUDIO_INTEGRATION_USER_DATA.
 */
export function extensionLog(): string {
  const userData = process.env.EBPF_STUDIO_INTEGRATION_USER_DATA;
  assert.ok(
    userData,
    "EBPF_STUDIO_INTEGRATION_USER_DATA names code-server's user-data dir (test/integration/host.ts sets it)",
  );
  const logs = path.join(userData, 'logs');
  const files = fs
    .readdirSync(logs)
    .flatMap((session) => {
      const dir = path.join(logs, session);
      return fs
        .readdirSync(dir)
        .filter((d) => d.startsWith('exthost'))
        .map((d) => path.join(dir, d, extensionId, 'eBPF Studio.log'));
    })
    .filter((f) => fs.existsSync(f))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  assert.ok(files.length > 0, `no "eBPF Studio.log" under ${logs}`);
  return fs.readFileSync(files[0], 'utf8');
}
