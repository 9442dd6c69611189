// eBPF: Show Verifier Heat Map (ebpf.showLineHeat): for a program the verifier gave up on ("program is too
// large", "too many states", "infinite loop detected", "jumps too complex"), how many instructions it
// processed at each source line, as editor decorations (hotter lines redder, with the count at the end)
// and a sorted table beside the source. The log is a level-2 one, so pruned visits count too.
import * as path from 'path';
import * as vscode from 'vscode';
import { lineHeat } from '../../../formats/line-heat';
import { heatMarks, heatTable } from '../../../formats/line-heat-view';
import { resolveSourceFile } from '../../../toolchain/verify';
import { findSecFunctions } from '../../../language-server/lenses';
import { Ctx } from '../../ctx';
import { ReadOnlyDocuments } from '../../ui/read-only-documents';
import { checkNow } from '../language-client';
import { levelTwoLog } from '../verifier-debug';

const tables = new ReadOnlyDocuments('ebpf-line-heat', 'plaintext', '; this heat map is gone: run it again\n');

/** Five shades, coolest first, and the count and share after the line (made in activate). */
let levels: vscode.TextEditorDecorationType[] = [];
let labels: vscode.TextEditorDecorationType | undefined;

function decorate(editor: vscode.TextEditor, source: string, log: string): void {
  const marks = heatMarks(lineHeat(log)).filter((m) => resolveSourceFile(m.file, source) === source);
  const byLevel: vscode.DecorationOptions[][] = levels.map(() => []);
  const labelled: vscode.DecorationOptions[] = [];
  for (const mark of marks) {
    if (mark.line < 1 || mark.line > editor.document.lineCount) continue;
    const range = editor.document.lineAt(mark.line - 1).range;
    byLevel[mark.level - 1].push({ range, hoverMessage: `The verifier processed ${mark.label} here.` });
    labelled.push({ range, renderOptions: { after: { contentText: `🔥 ${mark.label}` } } });
  }
  levels.forEach((type, i) => editor.setDecorations(type, byLevel[i]));
  if (labels) editor.setDecorations(labels, labelled);
}

export function showLineHeat(ctx: Ctx) {
  return async (uriArg?: string | vscode.Uri, programArg?: string): Promise<void> => {
    const uri =
      typeof uriArg === 'string' ? vscode.Uri.parse(uriArg) : (uriArg ?? vscode.window.activeTextEditor?.document.uri);
    if (!uri || !uri.fsPath.endsWith('.bpf.c')) {
      void vscode.window.showInformationMessage(
        'eBPF: Show Verifier Heat Map works on a *.bpf.c file: open one first.',
      );
      return;
    }
    const source = uri.fsPath;
    const document = await vscode.workspace.openTextDocument(uri);
    const names = findSecFunctions(document.getText()).map((f) => f.name);
    const program =
      programArg ??
      (names.length <= 1
        ? names[0]
        : await vscode.window.showQuickPick(names, { placeHolder: 'Heat map of which program?' }));
    if (!program) return;
    if (!ctx.helper) throw new Error('The heat map needs the eBPF Studio helper, which is not running.');
    const helper = ctx.helper;
    const { log } = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Verifying ${program} with a full log…` },
      async () => {
        const built = await checkNow(uri);
        if (!built?.built || !built.objectPath) throw new Error(`${path.basename(source)} did not build.`);
        return levelTwoLog(helper, built.objectPath, source, program);
      },
    );
    const started = performance.now();
    const heat = lineHeat(log);
    const editor = await vscode.window.showTextDocument(document, { preview: false });
    decorate(editor, source, log);
    await tables.show(
      `/${program}.heat.txt`,
      heatTable(heat, `verifier heat map of ${program} (${path.basename(source)})`),
    );
    ctx.log.info(
      `Heat map of ${program}: ${heat.total} instructions at ${heat.rows.length} lines, drawn in ${Math.round(performance.now() - started)} ms.`,
    );
  };
}

export function activate(ctx: Ctx): void {
  levels = [0.08, 0.16, 0.26, 0.38, 0.52].map((alpha) =>
    vscode.window.createTextEditorDecorationType({
      isWholeLine: true,
      backgroundColor: `rgba(255, 90, 0, ${alpha})`,
      overviewRulerColor: `rgba(255, 90, 0, ${Math.min(1, alpha * 2)})`,
      overviewRulerLane: vscode.OverviewRulerLane.Right,
    }),
  );
  labels = vscode.window.createTextEditorDecorationType({
    after: { margin: '0 0 0 2em', color: new vscode.ThemeColor('editorCodeLens.foreground') },
  });
  ctx.push(tables.register(), ...levels, labels);
}
