// The map viewer's plots, run in the extension host: the quick picks of "eBPF: Plot Map…" (which entry, which
// numeric field) and the series message that carries every plotted value's history to the page.
import * as vscode from 'vscode';
import type { MapSource } from '../maps/source';
import type { MapViewerModel } from './model';
import type { ToMapViewer } from '../../../webview/messages';

/** The panel's current map and rows. */
export interface PlotSource {
  readonly source: MapSource;
  readonly model: MapViewerModel;
}

/** Which entry (by key) and which numeric field to plot; undefined when there is nothing to plot or none is picked. */
export async function pickPlot(from: PlotSource): Promise<{ keyHex: string; column: number } | undefined> {
  const { source, model } = from;
  const name = source.info.name || `map ${source.info.id}`;
  if (source.undumpable) {
    void vscode.window.showInformationMessage(`${name} cannot be plotted: ${source.undumpable}`);
    return undefined;
  }
  const columns = source.columns;
  const numeric = columns.flatMap((c, i) => (c.part === 'value' && c.numeric ? [i] : []));
  if (numeric.length === 0) {
    void vscode.window.showInformationMessage(`${name} has no numeric value field to plot.`);
    return undefined;
  }
  const keyCount = source.keyLeaves.length;
  const rows = model
    .rows(0, Math.min(model.rowCount, 2000))
    .filter((r) => r.cpu === '' || r.cpu === 'Σ')
    .slice(0, 500);
  if (rows.length === 0) {
    void vscode.window.showInformationMessage(`${name} is empty: nothing to plot yet.`);
    return undefined;
  }
  const entry = await vscode.window.showQuickPick(
    rows.map((r) => ({
      label: r.cells.slice(0, keyCount).join(', '),
      description: r.cells
        .slice(keyCount)
        .map((v, j) => `${columns[keyCount + j].label}=${v}`)
        .join(' '),
      keyHex: r.keyHex,
    })),
    { title: `Plot ${name}: which entry?`, placeHolder: 'The key whose value to follow over time' },
  );
  if (!entry) return undefined;
  let column = numeric[0];
  if (numeric.length > 1) {
    const field = await vscode.window.showQuickPick(
      numeric.map((i) => ({ label: columns[i].label, description: columns[i].type, i })),
      { title: `Plot ${name}: which field?` },
    );
    if (!field) return undefined;
    column = field.i;
  }
  return { keyHex: entry.keyHex, column };
}

/** Every plotted series, labelled by field and key. */
export function seriesMessage(source: MapSource, model: MapViewerModel): ToMapViewer {
  const cols = source.columns;
  return {
    type: 'series',
    series: [...model.series.entries()].map(([id, s]) => ({
      id,
      label: `${cols[s.column].label} @ key ${s.keyHex}`,
      points: s.points,
    })),
  };
}
