// The HTML shell of eBPF Studio's webviews: a strict Content Security Policy with a fresh nonce, the
// bundled script and stylesheet (dist/webview/<name>.js/.css), and VS Code's theme colours via CSS variables.
import { randomBytes } from 'crypto';

export interface WebviewShell {
  /** webview.cspSource */
  cspSource: string;
  title: string;
  /** URIs (as strings, from webview.asWebviewUri) of the bundle and its stylesheet (absent when none). */
  scriptUri: string;
  styleUri?: string;
  /** Styles of the page itself. */
  css: string;
  body: string;
}

export function webviewHtml(shell: WebviewShell): string {
  const nonce = randomBytes(16).toString('base64');
  const csp = [
    "default-src 'none'",
    `img-src ${shell.cspSource} data:`,
    `style-src ${shell.cspSource} 'nonce-${nonce}'`,
    `font-src ${shell.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(shell.title)}</title>
${shell.styleUri ? `<link rel="stylesheet" href="${shell.styleUri}">` : ''}
<style nonce="${nonce}">${shell.css}</style>
</head>
<body>
${shell.body}
<script nonce="${nonce}" src="${shell.scriptUri}"></script>
</body>
</html>`;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Styles both webviews share: VS Code's fonts and colours, a compact table, buttons and inputs. */
export const baseCss = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground);
  background: var(--vscode-editor-background); margin: 0; padding: 0; }
.toolbar { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; padding: 6px 8px;
  border-bottom: 1px solid var(--vscode-panel-border); position: sticky; top: 0; background: var(--vscode-editor-background); z-index: 2; }
button { background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground);
  border: none; padding: 3px 9px; cursor: pointer; border-radius: 2px; font-family: inherit; font-size: inherit; }
button.primary { background: var(--vscode-button-background); color: var(--vscode-button-foreground); }
button:hover { background: var(--vscode-button-secondaryHoverBackground); }
button.primary:hover { background: var(--vscode-button-hoverBackground); }
button[aria-pressed="true"] { outline: 1px solid var(--vscode-focusBorder); }
input, select { background: var(--vscode-input-background); color: var(--vscode-input-foreground);
  border: 1px solid var(--vscode-input-border, transparent); padding: 2px 5px; font-family: inherit; font-size: inherit; }
input:focus, select:focus { outline: 1px solid var(--vscode-focusBorder); }
.muted { color: var(--vscode-descriptionForeground); }
.error { color: var(--vscode-errorForeground); white-space: pre-wrap; }
.badge { background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); border-radius: 8px; padding: 0 6px; }
.mono { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
`;
