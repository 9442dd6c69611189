// The map viewer's export, run in the extension host: the last read of the map saved as JSON or CSV
// (maps/source.ts writes the text) to a file the user picks.
import * as path from 'path';
import * as vscode from 'vscode';
import type { Ctx } from '../../ctx';
import { exportCsv, exportJson, MapSource } from '../maps/source';
import type { MapViewerModel } from './model';

/** The panel's current map and rows, read after the save dialog closes (the panel may have reopened the map). */
export interface ExportSource {
  readonly source: MapSource;
  readonly model: MapViewerModel;
}

export async function exportMap(ctx: Ctx, from: ExportSource, format: 'json' | 'csv'): Promise<void> {
  const name = (from.source.info.name || `map-${from.source.info.id}`).replace(/[^\w.-]/g, '_');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    title: `Export ${from.source.info.name} as ${format.toUpperCase()}`,
    defaultUri: folder ? vscode.Uri.joinPath(folder, `${name}.${format}`) : undefined,
    filters: format === 'json' ? { JSON: ['json'] } : { CSV: ['csv'] },
  });
  if (!target) return;
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Exporting ${from.source.info.name}…` },
    async () => {
      const pages = from.model.allPages;
      const text = format === 'json' ? exportJson(from.source, pages) : exportCsv(from.source, pages);
      await vscode.workspace.fs.writeFile(target, Buffer.from(text, 'utf8'));
    },
  );
  ctx.log.info(`Exported ${from.model.entryCount} entries of ${from.source.info.name} to ${target.fsPath}`);
  void vscode.window.showInformationMessage(
    `Exported ${from.model.entryCount.toLocaleString('en-US')} entries to ${path.basename(target.fsPath)}.`,
  );
}
