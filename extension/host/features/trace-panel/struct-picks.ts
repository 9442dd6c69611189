// The rows of "Which struct are the N-byte events?": where each struct comes from and whether it fits,
// own structs that fit on top, kernel types under a separator. Pure (a vscode QuickPickItem's shape).
import { typeSize } from '../../../formats/btf-types';
import { EventStructCandidate, fitsRecord } from '../../../formats/event-struct';

export interface StructPickItem {
  label: string;
  description?: string;
  /** QuickPickItemKind.Separator is -1. */
  kind?: -1;
  name?: string;
}

const ORIGIN_TEXT = { object: "the object's BTF", header: "the source's headers", kernel: 'kernel type' } as const;

export function structPickItems(ranked: EventStructCandidate[], size: number): StructPickItem[] {
  const items: StructPickItem[] = [];
  let kernelSeparator = false;
  for (const c of ranked) {
    if (c.origin === 'kernel' && !kernelSeparator) {
      items.push({ label: 'kernel types', kind: -1 });
      kernelSeparator = true;
    }
    const fits = fitsRecord(c.type, size);
    items.push({
      label: `struct ${c.name}`,
      description: `${typeSize(c.type)} bytes${fits ? ' · fits' : ''} · ${ORIGIN_TEXT[c.origin]}`,
      name: c.name,
    });
  }
  return items;
}
