// Read-only documents under one URI scheme, shown in an editor with a language (grammar); used by
// eBPF: Show Instructions and eBPF: Show Verifier Log. A text lives as long as the extension host.
import * as vscode from 'vscode';

export class ReadOnlyDocuments {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();

  /** `gone` is what a document shows when its text is no longer held (e.g. after a reload). */
  constructor(
    private readonly scheme: string,
    private readonly languageId: string,
    private readonly gone: string,
  ) {}

  register(): vscode.Disposable {
    return vscode.Disposable.from(
      this.changed,
      vscode.workspace.registerTextDocumentContentProvider(this.scheme, {
        onDidChange: this.changed.event,
        provideTextDocumentContent: (uri) => this.texts.get(uri.toString()) ?? this.gone,
      }),
    );
  }

  /** Sets the text at `path` (and `query`) and shows it in a non-preview editor. */
  async show(path: string, text: string, query?: string): Promise<void> {
    const uri = vscode.Uri.from({ scheme: this.scheme, path, query });
    this.texts.set(uri.toString(), text);
    this.changed.fire(uri);
    const doc = await vscode.languages.setTextDocumentLanguage(
      await vscode.workspace.openTextDocument(uri),
      this.languageId,
    );
    await vscode.window.showTextDocument(doc, { preview: false });
  }
}
