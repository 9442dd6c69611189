// Adds packet tests to the Test Explorer (controller "ebpfPacketTests"): every *.bpftest.json in the
// workspace is a test file, each of its tests an item; a run builds the program, feeds the packets to
// BPF_PROG_TEST_RUN through the helper (common/packet-test-run.ts) and shows failures as diffs.
import * as path from 'path';
import * as vscode from 'vscode';
import type { Ctx } from '../../ctx';
import {
  objectFor,
  PacketTestFile,
  PacketTestFormatError,
  parsePacketTestFile,
  testLines,
} from '../../../formats/packet-test';
import { runPacketTestFile, testItemOutcome } from './run';
import { buildSource } from '../build';

const GLOB = '**/*.bpftest.json';

export function activate(ctx: Ctx): void {
  const controller = vscode.tests.createTestController('ebpfPacketTests', 'eBPF Packet Tests');
  ctx.push(controller);
  const parsed = new Map<string, PacketTestFile>();

  const refreshFile = async (uri: vscode.Uri) => {
    const text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
    const fileItem =
      controller.items.get(uri.toString()) ?? controller.createTestItem(uri.toString(), path.basename(uri.fsPath), uri);
    controller.items.add(fileItem);
    fileItem.children.replace([]);
    fileItem.error = undefined;
    try {
      const file = parsePacketTestFile(text, path.basename(uri.fsPath));
      parsed.set(uri.toString(), file);
      fileItem.description = `${file.program} · ${path.basename(objectFor(uri.fsPath, file))}`;
      const lines = testLines(text);
      file.tests.forEach((test, i) => {
        const item = controller.createTestItem(`${uri.toString()}#${test.name}`, test.name, uri);
        if (lines[i] !== undefined) item.range = new vscode.Range(lines[i], 0, lines[i], 0);
        fileItem.children.add(item);
      });
    } catch (error) {
      parsed.delete(uri.toString());
      const line = error instanceof PacketTestFormatError ? error.line : undefined;
      fileItem.error = new vscode.MarkdownString(
        `${(error as Error).message}${line === undefined ? '' : ` (line ${line + 1})`}`,
      );
    }
  };

  controller.resolveHandler = async (item) => {
    if (item?.uri) return refreshFile(item.uri);
    for (const uri of await vscode.workspace.findFiles(GLOB, '**/node_modules/**')) await refreshFile(uri);
  };
  controller.refreshHandler = async () => {
    controller.items.replace([]);
    for (const uri of await vscode.workspace.findFiles(GLOB, '**/node_modules/**')) await refreshFile(uri);
  };

  const watcher = vscode.workspace.createFileSystemWatcher(GLOB);
  ctx.push(
    watcher,
    watcher.onDidCreate(refreshFile),
    watcher.onDidChange(refreshFile),
    watcher.onDidDelete((uri) => {
      controller.items.delete(uri.toString());
      parsed.delete(uri.toString());
    }),
  );

  controller.createRunProfile(
    'Run packet tests',
    vscode.TestRunProfileKind.Run,
    (request, token) => runTests(ctx, controller, parsed, refreshFile, request, token),
    true,
  );
}

async function runTests(
  ctx: Ctx,
  controller: vscode.TestController,
  parsed: Map<string, PacketTestFile>,
  refreshFile: (uri: vscode.Uri) => Promise<void>,
  request: vscode.TestRunRequest,
  token: vscode.CancellationToken,
): Promise<void> {
  const run = controller.createTestRun(request);
  // Group the requested items by file: one load per file.
  const byFile = new Map<vscode.TestItem, vscode.TestItem[]>();
  const roots: vscode.TestItem[] = request.include ? [...request.include] : [];
  if (!request.include) controller.items.forEach((item) => roots.push(item));
  for (const item of roots) {
    const fileItem = item.parent ?? item;
    if (fileItem.uri && !item.parent) await refreshFile(fileItem.uri);
    const tests = item.parent ? [item] : collectChildren(fileItem);
    byFile.set(fileItem, [...(byFile.get(fileItem) ?? []), ...tests.filter((t) => !request.exclude?.includes(t))]);
  }
  try {
    for (const [fileItem, tests] of byFile) {
      if (token.isCancellationRequested) break;
      tests.forEach((t) => run.started(t));
      const fail = (message: string) => tests.forEach((t) => run.errored(t, new vscode.TestMessage(message)));
      const file = parsed.get(fileItem.id);
      if (!file || !fileItem.uri) {
        fail(
          fileItem.error
            ? String((fileItem.error as vscode.MarkdownString).value ?? fileItem.error)
            : 'The test file could not be read.',
        );
        continue;
      }
      const helper = ctx.helper;
      if (!helper) {
        fail(
          `The eBPF Studio helper is not running (${ctx.helperState.status === 'stopped' ? ctx.helperState.reason : ctx.helperState.status}): packet tests run in the kernel through it.`,
        );
        continue;
      }
      let objectPath = objectFor(fileItem.uri.fsPath, file);
      if (objectPath.endsWith('.c')) {
        const built = await buildSource(ctx, vscode.Uri.file(objectPath));
        if (!built.ok) {
          fail(`Building ${path.basename(objectPath)} failed:\n${built.stderr}`);
          continue;
        }
        objectPath = built.objectPath;
      }
      try {
        const names = new Set(tests.map((t) => t.label));
        const fileRun = await runPacketTestFile(helper, file, objectPath, names);
        for (const result of fileRun.results) {
          const item = tests.find((t) => t.label === result.name);
          if (!item) continue;
          const outcome = testItemOutcome(result);
          const messages = outcome.messages.map((m) => {
            const message =
              m.expected !== undefined
                ? vscode.TestMessage.diff(m.message, m.expected, m.actual ?? '')
                : new vscode.TestMessage(m.message);
            if (item.uri && item.range) message.location = new vscode.Location(item.uri, item.range);
            return message;
          });
          if (outcome.state === 'passed') run.passed(item, outcome.durationMs);
          else if (outcome.state === 'failed') run.failed(item, messages, outcome.durationMs);
          else run.errored(item, messages);
          run.appendOutput(
            `${result.name}: retval ${result.retval ?? '-'}, ${result.durationNs ?? '-'} ns\r\n`,
            undefined,
            item,
          );
        }
      } catch (error) {
        fail((error as Error).message);
      }
    }
  } finally {
    run.end();
  }
}

function collectChildren(item: vscode.TestItem): vscode.TestItem[] {
  const out: vscode.TestItem[] = [];
  item.children.forEach((c) => out.push(c));
  return out;
}
