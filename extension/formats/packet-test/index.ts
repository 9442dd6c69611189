// Packet tests for XDP, tc and socket programs: the file format (schema.ts), packets built from header
// fields (packet.ts), verdict names (verdicts.ts) and the comparison with what the kernel returned (compare.ts). Pure: no
// vscode, no helper; the host's packet-tests feature does the kernel part.
export * from './schema';
export * from './packet';
export * from './verdicts';
export * from './compare';
