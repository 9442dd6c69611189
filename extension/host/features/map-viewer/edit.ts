// The map viewer's entry edits, run in the extension host: the add/edit form (filled from the entry's current
// value), saving through map/edit with its conflict handling (a key that exists, an entry changed meanwhile),
// and the confirmed delete.
import * as vscode from 'vscode';
import { decodeLeaves, formatScalar } from '../../../formats/btf-decode';
import { EncodeError } from '../../../formats/btf-encode';
import { HelperError } from '../../../protocol/errors';
import type { MapSource } from '../maps/source';
import type { FromMapViewer, ToMapViewer } from '../../../webview/messages';

type SaveMessage = Extract<FromMapViewer, { type: 'save' }>;

/** What the edits need from their panel; `source` is read at each use, since the panel may reopen the map. */
export interface EditTarget {
  readonly source: MapSource;
  post(m: ToMapViewer): void;
  refresh(first: boolean): Promise<void>;
}

export class EntryEditor {
  /** The value the open edit form started from (map/edit's `expected`). */
  private formSeen: Buffer | undefined;

  constructor(private readonly target: EditTarget) {}

  private get source(): MapSource {
    return this.target.source;
  }

  async openForm(mode: 'add' | 'edit', keyHex?: string, cpuText?: string): Promise<void> {
    const keyLeaves = this.source.keyLeaves;
    const valueLeaves = this.source.valueLeaves;
    const cpu = cpuText && cpuText !== 'Σ' ? Number(cpuText) : undefined;
    let keyValues = keyLeaves.map(() => '');
    let values = valueLeaves.map((l) =>
      l.kind === 'string'
        ? ''
        : l.kind === 'bytes'
          ? '00'.repeat(l.bits / 8)
          : l.kind === 'bool'
            ? 'false'
            : l.kind === 'ptr'
              ? '0x0'
              : l.kind === 'enum'
                ? (l.enumValues?.[0]?.name ?? '0')
                : '0',
    );
    this.formSeen = undefined;
    if (mode === 'edit' && keyHex) {
      const current = await this.source.lookup(keyHex);
      if (!current) throw new Error('This entry is gone: it was deleted since the last refresh.');
      // What the user sees in the form: the save is refused if the entry changes meanwhile.
      this.formSeen = current;
      const page = { count: 1, keys: Buffer.from(keyHex, 'hex'), values: current };
      const decoded = this.source.decode(page, 0);
      keyValues = decoded.key.map(String);
      values = (
        cpu !== undefined && decoded.perCpu ? decoded.perCpu[cpu] : decoded.perCpu ? decoded.perCpu[0] : decoded.value
      ).map(String);
    }
    this.target.post({
      type: 'form',
      mode,
      keyHex,
      cpu,
      key: this.source.formFields('key', keyValues),
      value: this.source.formFields('value', values),
    });
  }

  async save(m: SaveMessage): Promise<void> {
    let warning: string | undefined;
    try {
      if (m.mode === 'add') {
        // Arrays hold every key, and map/edit writes them on Add: ask first, whatever the map type.
        const keyHex = this.source.encodeKey(m.key).toString('hex');
        if (await this.source.lookup(keyHex).catch(() => undefined)) {
          await this.offerEditExisting(m, keyHex);
          return;
        }
      }
      const result =
        m.mode === 'add'
          ? await this.source.write({ fields: m.key }, m.value, { mode: 'add' })
          : await this.source.write({ hex: m.keyHex! }, m.value, { mode: 'edit', cpu: m.cpu, seen: this.formSeen });
      warning = result.warning;
    } catch (error) {
      // A key added meanwhile (Conflict "exists"): offer to edit it instead, as above.
      if (m.mode === 'add' && error instanceof HelperError && error.data.kind === 'Conflict') {
        await this.offerEditExisting(m, this.source.encodeKey(m.key).toString('hex'));
        return;
      }
      // A value that does not fit its type, or the kernel refusing (map full, key exists): nothing was written.
      this.target.post({
        type: 'formError',
        message: (error as Error).message,
        path: error instanceof EncodeError ? error.path : undefined,
      });
      return;
    }
    this.target.post({ type: 'formDone' });
    if (warning) void vscode.window.showWarningMessage(warning);
    await this.target.refresh(false);
  }

  /** Deletes the entry after a modal confirmation, then reads the map again. */
  async delete(keyHex: string): Promise<void> {
    const pick = await vscode.window.showWarningMessage(
      `Delete this entry from ${this.source.info.name}? Programs using the map see the change at once.`,
      { modal: true },
      'Delete',
    );
    if (pick !== 'Delete') return;
    await this.source.delete(keyHex);
    await this.target.refresh(false);
  }

  /**
   * Add entry with a key the map holds already: says so and offers to edit that entry (its current value
   * in the form) or to overwrite it with the value typed, instead of the kernel's "File exists".
   */
  private async offerEditExisting(m: SaveMessage, keyHex: string): Promise<void> {
    const keyText = decodeLeaves(this.source.keyLeaves, Buffer.from(keyHex, 'hex'), 0).map(formatScalar).join(', ');
    this.target.post({
      type: 'formError',
      message: `${this.source.info.name} already has an entry with key ${keyText}.`,
    });
    const choice = await vscode.window.showWarningMessage(
      `${this.source.info.name} already has an entry with key ${keyText}: edit it instead?`,
      'Edit Existing Entry',
      'Overwrite',
    );
    if (choice === 'Edit Existing Entry') await this.openForm('edit', keyHex);
    else if (choice === 'Overwrite') await this.save({ ...m, mode: 'edit', keyHex });
  }
}
