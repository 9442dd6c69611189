// Quick fixes the language server offers. Today: rewriting a `struct bpf_map_def SEC("maps")` map, which
// libbpf 1.0 removed, as a BTF-defined map in SEC(".maps"). Pure: text and diagnostics in, edits out.
import { CodeAction, CodeActionKind, Diagnostic as LspDiagnostic } from 'vscode-languageserver/node';
import { findLegacyMaps } from '../formats/legacy-maps';
import { LEGACY_MAP_CODE } from '../toolchain/verify';

/** One "Rewrite as a BTF-defined map" per legacy map a diagnostic of the range points at, and one for all. */
export function legacyMapActions(uri: string, text: string, diagnostics: LspDiagnostic[]): CodeAction[] {
  const ours = diagnostics.filter((d) => d.code === LEGACY_MAP_CODE);
  if (ours.length === 0) return [];
  const maps = findLegacyMaps(text).filter((m) => m.replacement !== undefined);
  const actions: CodeAction[] = [];
  for (const diagnostic of ours) {
    const map = maps.find((m) => m.start.line === diagnostic.range.start.line);
    if (!map) continue;
    actions.push({
      title: `Rewrite \`${map.name}\` as a BTF-defined map (SEC(".maps"))`,
      kind: CodeActionKind.QuickFix,
      diagnostics: [diagnostic],
      isPreferred: true,
      edit: { changes: { [uri]: [{ range: { start: map.start, end: map.end }, newText: map.replacement! }] } },
    });
  }
  if (maps.length > 1) {
    actions.push({
      title: 'Rewrite every `struct bpf_map_def` map in this file as a BTF-defined map',
      kind: CodeActionKind.QuickFix,
      diagnostics: ours,
      edit: {
        changes: {
          [uri]: maps.map((m) => ({ range: { start: m.start, end: m.end }, newText: m.replacement! })),
        },
      },
    });
  }
  return actions;
}
