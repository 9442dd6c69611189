// Code actions on the verifier's diagnostic: the quick fix that answers the rejection (edited in the
// source, then built and verified again at once), why the verifier refused it, the heat map for a
// complexity failure, and Debug the verifier path. The fixes and explanations are formats/ code.
import * as vscode from 'vscode';
import { explainRejection } from '../../../formats/verifier-explain';
import { explanationText, type LineEdit, proposeFix } from '../../../formats/verifier-fixes';
import { isComplexityFailure } from '../../../formats/line-heat-view';
import { parseRejection } from '../../../formats/verifier-rejection';
import { Ctx } from '../../ctx';
import { checkNow } from '../language-client';
import { lastVerdicts } from '../verifier-log';

/** The line edits as one workspace edit (line numbers are the document's before the edit, 1-based). */
function workspaceEdit(document: vscode.TextDocument, edits: LineEdit[]): vscode.WorkspaceEdit {
  const edit = new vscode.WorkspaceEdit();
  for (const e of edits) {
    const text = e.lines.map((l) => `${l}\n`).join('');
    if (e.line - 1 >= document.lineCount) {
      const end = document.lineAt(document.lineCount - 1).range.end;
      edit.insert(document.uri, end, `\n${text.replace(/\n$/, '')}`);
    } else if (e.deleteCount === 0) {
      edit.insert(document.uri, new vscode.Position(e.line - 1, 0), text);
    } else {
      const last = e.line - 1 + e.deleteCount;
      const end =
        last < document.lineCount ? new vscode.Position(last, 0) : document.lineAt(document.lineCount - 1).range.end;
      edit.replace(
        document.uri,
        new vscode.Range(e.line - 1, 0, end.line, end.character),
        last < document.lineCount ? text : text.replace(/\n$/, ''),
      );
    }
  }
  return edit;
}

class VerifierActions implements vscode.CodeActionProvider {
  provideCodeActions(
    document: vscode.TextDocument,
    _range: vscode.Range,
    context: vscode.CodeActionContext,
  ): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    for (const diagnostic of context.diagnostics) {
      const m = /^verifier rejected (\w+): /.exec(diagnostic.message);
      if (!m) continue;
      const program = m[1];
      const verdict = lastVerdicts(document.uri.fsPath).find((v) => v.program === program);
      const log = verdict?.status === 'rejected' ? verdict.log : undefined;
      const rejection = log ? parseRejection(log) : undefined;
      const explanation = rejection ? explainRejection(rejection.message, rejection.report) : undefined;
      const fix = explanation
        ? proposeFix({ text: document.getText(), line: diagnostic.range.start.line + 1, explanation })
        : undefined;
      if (fix) {
        const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
        action.edit = workspaceEdit(document, fix.edits);
        action.diagnostics = [diagnostic];
        action.isPreferred = true;
        action.command = { title: 'Verify again', command: 'ebpf.verifyAfterFix', arguments: [document.uri] };
        actions.push(action);
      }
      if (explanation) {
        const why = new vscode.CodeAction(`Why: ${explanation.title}`, vscode.CodeActionKind.QuickFix);
        why.diagnostics = [diagnostic];
        why.command = {
          title: 'Why',
          command: 'ebpf.explainRejection',
          arguments: [`${explanation.title}: ${explanationText(explanation)}`],
        };
        actions.push(why);
      }
      if (rejection && isComplexityFailure(rejection.message)) {
        const heat = new vscode.CodeAction('Show the verifier heat map', vscode.CodeActionKind.QuickFix);
        heat.diagnostics = [diagnostic];
        heat.command = { title: 'Heat map', command: 'ebpf.showLineHeat', arguments: [document.uri, program] };
        actions.push(heat);
      }
      const debug = new vscode.CodeAction(`Debug the verifier path of ${program}`, vscode.CodeActionKind.QuickFix);
      debug.diagnostics = [diagnostic];
      debug.command = { title: 'Debug', command: 'ebpf.debugVerifier', arguments: [document.uri, program] };
      actions.push(debug);
    }
    return actions;
  }
}

export function activate(ctx: Ctx): void {
  ctx.push(
    vscode.languages.registerCodeActionsProvider({ scheme: 'file', pattern: '**/*.bpf.c' }, new VerifierActions(), {
      providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
    }),
    // Internal commands of the actions (not in the palette): save and verify at once, and say why.
    vscode.commands.registerCommand('ebpf.verifyAfterFix', async (uri: vscode.Uri) => {
      const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      if (document?.isDirty) await document.save();
      await checkNow(uri);
    }),
    vscode.commands.registerCommand('ebpf.explainRejection', (text: string) =>
      vscode.window.showInformationMessage(text, { modal: false }),
    ),
  );
}
