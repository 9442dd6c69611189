// Run-time checks of what the webviews send (extension/webview/messages.ts declares the shapes): a webview
// is a browser page, and the host acts on its messages (writes map entries, saves files), so each message is
// parsed before it is handled; one that does not parse is logged and ignored. `satisfies` keeps each schema
// and its declared type the same shape.
import { z } from 'zod';
import type { FromMapViewer, FromTracePanel } from '../../webview/messages';

const text = z.string().max(64 * 1024);
const hex = z.string().regex(/^([0-9a-f]{2}){0,4096}$/);
const fields = z.record(z.string().max(256), text);
const index = z.number().int().min(0).max(0x7fffffff);

export const FromMapViewerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('range'), request: index, start: index, count: z.number().int().min(0).max(10_000) }),
  z.object({ type: z.literal('filter'), text }),
  z.object({ type: z.literal('sort'), column: z.number().int().min(-1).max(100_000), descending: z.boolean() }),
  z.object({ type: z.literal('refresh') }),
  z.object({ type: z.literal('autoRefresh'), intervalMs: z.number().int().min(0).max(86_400_000) }),
  z.object({
    type: z.literal('openForm'),
    mode: z.enum(['add', 'edit']),
    keyHex: hex.optional(),
    cpu: z.string().max(8).optional(),
  }),
  z.object({
    type: z.literal('save'),
    mode: z.enum(['add', 'edit']),
    keyHex: hex.optional(),
    cpu: z.number().int().min(0).max(8191).optional(),
    key: fields,
    value: fields,
  }),
  z.object({ type: z.literal('delete'), keyHex: hex }),
  z.object({ type: z.literal('export'), format: z.enum(['json', 'csv']) }),
  z.object({ type: z.literal('plot'), keyHex: hex, column: index }),
  z.object({ type: z.literal('unplot'), id: z.string().max(16_384) }),
  z.object({ type: z.literal('pickStruct') }),
]) satisfies z.ZodType<FromMapViewer>;

export const FromTracePanelSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('pause'), paused: z.boolean() }),
  z.object({ type: z.literal('clear') }),
  z.object({ type: z.literal('filter'), program: text, pid: text, text }),
  z.object({ type: z.literal('copy') }),
  z.object({ type: z.literal('export') }),
  z.object({ type: z.literal('addSource') }),
]) satisfies z.ZodType<FromTracePanel>;

/** The message if it has one of the declared shapes, else undefined (and `reject` says why). */
export function parseWebviewMessage<T>(
  schema: z.ZodType<T>,
  raw: unknown,
  reject: (why: string) => void,
): T | undefined {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  reject(`ignored a malformed webview message (${issue.path.join('.') || 'message'}: ${issue.message})`);
  return undefined;
}
