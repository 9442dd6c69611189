// BTF type trees as the helper sends them (protocol/types.ts BtfType): sizes, C-style names, typedefs
// and `ref` nodes followed to the type that says how the bytes look. Pure code, run by both processes.
import type { BtfType } from '../protocol/types';

/** The struct and union nodes of one tree by BTF id: what its `ref` nodes name. */
export type BtfIndex = ReadonlyMap<number, BtfType>;

/** Size in bytes of any BtfType. */
export function typeSize(type: BtfType): number {
  return type.kind === 'void' ? 0 : type.size;
}

/**
 * Indexes the struct and union nodes of a tree by id. The addon gives a struct in full before any `ref` to
 * it (depth first, members in order), so the first node with an id is the one a ref means. The walk reads
 * each node once and never follows a ref, so any tree, cyclic refs included, is indexed in linear time.
 */
export function indexTree(root: BtfType): BtfIndex {
  const index = new Map<number, BtfType>();
  const stack: BtfType[] = [root];
  while (stack.length > 0) {
    const t = stack.pop()!;
    switch (t.kind) {
      case 'struct':
      case 'union':
        if (t.id !== undefined && !index.has(t.id)) index.set(t.id, t);
        for (let i = t.members.length - 1; i >= 0; i--) stack.push(t.members[i].type);
        break;
      case 'array':
        stack.push(t.elem);
        break;
      case 'typedef':
        stack.push(t.target);
        break;
    }
  }
  return index;
}

/**
 * Follows typedefs, and with an index the `ref` nodes, to the type that says how the bytes look. A ref
 * whose id the tree never describes stays a ref (see missingRef); an index only holds structs and unions,
 * so this cannot loop.
 */
export function resolve(type: BtfType, index?: BtfIndex): BtfType {
  let t = type;
  for (;;) {
    if (t.kind === 'typedef') t = t.target;
    else if (t.kind === 'ref' && index?.has(t.id)) t = index.get(t.id)!;
    else return t;
  }
}

/** For a ref the tree does not describe (malformed BTF or a cut tree), what the viewer says instead of
 * its fields; undefined for every other node. */
export function missingRef(type: BtfType, index: BtfIndex): string | undefined {
  if (type.kind !== 'ref' || index.has(type.id)) return undefined;
  return `${type.name || 'type'}: refers to BTF type ${type.id}, which this tree does not describe`;
}

/** A readable name of a type, the way it would be declared. */
export function typeName(type: BtfType): string {
  switch (type.kind) {
    case 'void':
      return 'void';
    case 'int':
      if (type.bool) return 'bool';
      if (type.char) return 'char';
      return `${type.signed ? 's' : 'u'}${type.size * 8}`;
    case 'float':
      return type.name;
    case 'ptr':
      return `${type.target || 'void'} *`;
    case 'array':
      return `${typeName(type.elem)}[${type.length}]`;
    case 'struct':
    case 'union':
      return `${type.kind} ${type.name || '(anon)'}`;
    case 'enum':
      return `enum ${type.name || '(anon)'}`;
    case 'typedef':
      return type.name;
    default:
      // A ref is named as its struct is ("struct A").
      return type.name || type.kind;
  }
}

/** A one-byte integer spelled as a char: arrays of it show as strings. */
export function isCharType(t: BtfType, index?: BtfIndex): boolean {
  const r = resolve(t, index);
  return (
    r.kind === 'int' &&
    r.size === 1 &&
    (r.char || r.name === 'char' || r.name === 'signed char' || r.name === 'unsigned char')
  );
}

/** Stand-in when a map has no BTF for its key or value: one hex leaf of the right size. */
export function bytesType(size: number): BtfType {
  return { kind: 'unknown', name: `${size} bytes`, size };
}
