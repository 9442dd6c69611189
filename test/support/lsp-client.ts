// A test client for the BPF language server (dist/server.js) over stdio, speaking LSP with vscode-jsonrpc
// directly (vscode-languageclient needs VS Code). It answers ebpf/verify the way the extension does: with
// verifyObject() through a real helper, or "unavailable" when none is given.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import {
  createMessageConnection,
  MessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-jsonrpc/node';
import { verifyObject, VerifyOutcome } from '../../extension/toolchain/verify';
import { HelperClient } from '../../extension/host/client/client';
import type { BuildSettings, VerifyParams } from '../../extension/language-server/lsp-ext';
import { repoRoot } from './kernel';

export const serverScript = path.join(repoRoot, 'dist', 'server.js');

export interface PublishedDiagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  severity: number;
  source?: string;
  message: string;
  code?: string | number;
  relatedInformation?: { location: { uri: string; range: { start: { line: number } } }; message: string }[];
}

export class LspTestClient {
  private readonly published = new Map<string, PublishedDiagnostic[][]>();
  private readonly waiters: (() => void)[] = [];
  private versions = new Map<string, number>();
  /** The server's window/logMessage lines, in order (its per-check timings among them). */
  readonly logs: string[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly connection: MessageConnection,
  ) {}

  static async start(helper: HelperClient | undefined, settings: Partial<BuildSettings> = {}): Promise<LspTestClient> {
    if (!fs.existsSync(serverScript)) throw new Error(`${serverScript} is missing: run npm run build first`);
    const child = spawn(process.execPath, [serverScript, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const connection = createMessageConnection(
      new StreamMessageReader(child.stdout!),
      new StreamMessageWriter(child.stdin!),
    );
    const client = new LspTestClient(child, connection);
    connection.onNotification(
      'textDocument/publishDiagnostics',
      (p: { uri: string; diagnostics: PublishedDiagnostic[] }) => {
        client.published.set(p.uri, [...(client.published.get(p.uri) ?? []), p.diagnostics]);
        client.waiters.splice(0).forEach((wake) => wake());
      },
    );
    connection.onNotification('window/logMessage', (p: { message: string }) => client.logs.push(p.message));
    connection.onRequest('ebpf/verify', async (p: VerifyParams): Promise<VerifyOutcome> =>
      helper ? verifyObject(helper, p.objectPath, p.source, p.includeDirs) : { unavailable: 'no helper in this test' },
    );
    connection.onRequest('ebpf/runStats', () => []);
    connection.listen();
    await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {},
      initializationOptions: { includeDirs: [], defines: [], onSave: true, ...settings } satisfies BuildSettings,
    });
    connection.sendNotification('initialized', {});
    return client;
  }

  /** How many diagnostic sets were published for a file so far. */
  publishCount(file: string): number {
    return this.published.get(pathToFileURL(file).toString())?.length ?? 0;
  }

  /** Waits for the next publish for `file` after `after` publishes, and returns it. */
  async nextDiagnostics(file: string, after: number, timeoutMs = 30_000): Promise<PublishedDiagnostic[]> {
    const uri = pathToFileURL(file).toString();
    const deadline = Date.now() + timeoutMs;
    while ((this.published.get(uri)?.length ?? 0) <= after) {
      if (Date.now() > deadline) throw new Error(`no diagnostics were published for ${file} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
    return this.published.get(uri)![after];
  }

  open(file: string): void {
    this.versions.set(file, 1);
    this.connection.sendNotification('textDocument/didOpen', {
      textDocument: {
        uri: pathToFileURL(file).toString(),
        languageId: 'c',
        version: 1,
        text: fs.readFileSync(file, 'utf8'),
      },
    });
  }

  /** Writes new text to disk, tells the server about the change, and saves (what the editor does). */
  save(file: string, text: string): void {
    fs.writeFileSync(file, text);
    const version = (this.versions.get(file) ?? 1) + 1;
    this.versions.set(file, version);
    const uri = pathToFileURL(file).toString();
    this.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version },
      contentChanges: [{ text }],
    });
    this.connection.sendNotification('textDocument/didSave', { textDocument: { uri } });
  }

  hover(file: string, line: number, character: number): Promise<{ contents: { kind: string; value: string } } | null> {
    return this.connection.sendRequest('textDocument/hover', {
      textDocument: { uri: pathToFileURL(file).toString() },
      position: { line, character },
    });
  }

  completion(file: string, line: number, character: number): Promise<{ label: string; detail?: string }[]> {
    return this.connection.sendRequest('textDocument/completion', {
      textDocument: { uri: pathToFileURL(file).toString() },
      position: { line, character },
    });
  }

  codeLenses(file: string): Promise<{ range: { start: { line: number } }; command: { title: string } }[]> {
    return this.connection.sendRequest('textDocument/codeLens', {
      textDocument: { uri: pathToFileURL(file).toString() },
    });
  }

  /** The code actions (quick fixes) the server offers for these diagnostics of a file. */
  codeActions(
    file: string,
    diagnostics: PublishedDiagnostic[],
  ): Promise<
    {
      title: string;
      kind?: string;
      edit?: { changes: Record<string, { range: PublishedDiagnostic['range']; newText: string }[]> };
    }[]
  > {
    const range = diagnostics[0]?.range ?? { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    return this.connection.sendRequest('textDocument/codeAction', {
      textDocument: { uri: pathToFileURL(file).toString() },
      range,
      context: { diagnostics },
    });
  }

  async stop(): Promise<void> {
    try {
      await this.connection.sendRequest('shutdown');
      this.connection.sendNotification('exit');
    } catch {
      // Already gone.
    }
    this.connection.dispose();
    if (this.child.exitCode === null) {
      await new Promise((resolve) => {
        const timer = setTimeout(() => this.child.kill(), 2000);
        this.child.once('exit', () => (clearTimeout(timer), resolve(undefined)));
      });
    }
  }
}

/** 0-based line of the first line containing `marker`. */
export function lineOf(text: string, marker: string): number {
  const index = text.split('\n').findIndex((l) => l.includes(marker));
  if (index < 0) throw new Error(`marker ${JSON.stringify(marker)} not found`);
  return index;
}
