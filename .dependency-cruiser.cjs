// The house's import rules (DEVELOPING.md, "Layout"), checked by `npm run lint:deps` in CI.
// A folder says which process runs a file; these rules keep the privilege boundary visible.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'host-not-helper',
      comment: 'The extension host talks to the helper over the protocol only, never by importing its code.',
      severity: 'error',
      from: { path: '^extension/host/' },
      to: { path: '^extension/helper/' },
    },
    {
      name: 'helper-not-host',
      comment: 'The root helper must not bundle extension-host code.',
      severity: 'error',
      from: { path: '^extension/helper/' },
      to: { path: '^extension/(host|language-server|toolchain|webview)/' },
    },
    {
      name: 'only-helper-loads-native',
      comment: 'Only the privileged helper loads the native addon.',
      severity: 'error',
      from: { path: '^extension/', pathNot: '^extension/helper/' },
      to: { path: '^native/' },
    },
    {
      name: 'protocol-is-self-contained',
      comment: "The helper's wire imports nothing of the project.",
      severity: 'error',
      from: { path: '^extension/protocol/' },
      to: { path: '^(extension|native)/', pathNot: '^extension/protocol/' },
    },
    {
      name: 'formats-are-pure',
      comment: 'Pure code shared by both processes: formats and the protocol types only.',
      severity: 'error',
      from: { path: '^extension/formats/' },
      to: { path: '^(extension|native)/', pathNot: '^extension/(formats|protocol)/' },
    },
    {
      name: 'formats-do-no-io',
      comment: 'Pure code: no files, processes or sockets.',
      severity: 'error',
      from: { path: '^extension/(formats|protocol)/' },
      to: { dependencyTypes: ['core'], path: '^(fs|child_process|net|dgram|cluster|worker_threads|http|https)$' },
    },
    {
      name: 'debug-adapter-imports-formats-and-protocol',
      comment: 'The verifier debug adapter runs inline in the host or as its own process: formats and protocol only.',
      severity: 'error',
      from: { path: '^extension/debug-adapter/' },
      to: { path: '^(extension|native)/', pathNot: '^extension/(debug-adapter|formats|protocol)/' },
    },
    {
      name: 'webview-imports-formats-only',
      comment: 'Browser bundles: formats and their own messages.',
      severity: 'error',
      from: { path: '^extension/webview/' },
      to: { path: '^(extension|native)/', pathNot: '^extension/(webview|formats)/' },
    },
    {
      name: 'language-server-asks-the-host',
      comment: 'The language server asks the host to verify (ebpf/verify); it never bundles a helper client.',
      severity: 'error',
      from: { path: '^extension/(language-server|toolchain)/' },
      to: { path: '^extension/(host|helper)/' },
    },
    {
      name: 'vscode-in-host-only',
      comment: 'Only the extension host runs inside VS Code.',
      severity: 'error',
      from: { path: '^extension/', pathNot: '^extension/host/' },
      to: { path: '^(vscode$|node_modules/@types/vscode/)' },
    },
    {
      name: 'installer-is-small',
      comment: 'The root-run install step (dist/install-helper.js) imports only the install facts in formats/.',
      severity: 'error',
      from: { path: '^extension/installer/' },
      to: { path: '^(extension|native)/', pathNot: '^extension/(installer|formats)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^extension/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^dist/' },
  },
};
