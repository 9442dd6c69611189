#!/usr/bin/env node
// Stands in for the VS Code executable that @vscode/test-electron's runTests launches, on machines where no
// desktop VS Code can be had: it takes the arguments runTests passes (--extensionDevelopmentPath=,
// --extensionTestsPath=, the folder to open; the rest, such as --no-sandbox or --user-data-dir, are for
// Electron and are ignored) and runs the tests in code-server's extension host (host.ts runInCodeServer),
// exiting with the suite's result as VS Code would.
'use strict';
require('tsx/cjs');
const { runInCodeServer } = require('./host');

const options = { developmentPath: '', testsPath: '', workspace: '' };
for (const arg of process.argv.slice(2)) {
  const [, key, value] = /^--([^=]+)=(.*)$/.exec(arg) ?? [];
  if (key === 'extensionDevelopmentPath') options.developmentPath = value;
  else if (key === 'extensionTestsPath') options.testsPath = value;
  else if (!arg.startsWith('-')) options.workspace = arg;
}
if (!options.developmentPath || !options.testsPath || !options.workspace) {
  console.error('usage: code-server-launcher.js FOLDER --extensionDevelopmentPath=DIR --extensionTestsPath=FILE');
  process.exit(2);
}
runInCodeServer(options).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error.stack);
    process.exit(1);
  },
);
