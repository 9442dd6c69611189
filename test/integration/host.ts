// The integration tier in code-server's real extension host, started the way @vscode/test-electron starts
// a desktop VS Code: `runIntegrationTier()` calls its `runTests`, with VSCODE_EXECUTABLE_PATH when a desktop
// VS Code exists, else with test/integration/code-server-launcher.js as the "executable". The launcher
// turns the arguments runTests passes (--extensionDevelopmentPath, --extensionTestsPath, the folder) into
// this file's `runInCodeServer`: code-server starts with the smoke-test driver, and chromium opens the
// workbench with a `payload` naming the development extension and the tests (code-server rejects
// --extensionDevelopmentPath on its command line; the payload is the way in). The host reports the exit
// code through window.codeAutomationExit and its console through window.codeAutomationLog.
import * as fs from 'fs';
import * as path from 'path';
import * as util from 'util';
import { runTests, TestRunFailedError } from '@vscode/test-electron';
import {
  CodeServer,
  ensureTools,
  freePort,
  freshState,
  installExtension,
  packageExtension,
  repoRoot,
} from '../e2e/support/code-server';
import { artifactsRoot, launchBrowser } from '../e2e/support/workbench';

const artifacts = path.join(artifactsRoot, 'integration');
const launcher = path.join(__dirname, 'code-server-launcher.js');

export interface IntegrationResult {
  passed: number;
  failed: number;
  skipped: number;
}

/**
 * Runs test/integration/index.js through @vscode/test-electron's runTests. With code-server, the packed
 * .vsix (unpacked once) is the development extension, so the tier tests what users install; a desktop
 * VS Code (VSCODE_EXECUTABLE_PATH) loads the built repository.
 */
export async function runIntegrationTier(): Promise<IntegrationResult> {
  fs.rmSync(artifacts, { recursive: true, force: true });
  fs.mkdirSync(artifacts, { recursive: true });
  const desktop = process.env.VSCODE_EXECUTABLE_PATH;
  let developmentPath = repoRoot;
  let stateRoot = path.join(repoRoot, '.vscode-test');
  if (!desktop) {
    const tools = ensureTools({ chromium: true });
    const state = freshState(path.join(tools.cache, 'e2e', 'integration-extension'));
    developmentPath = installExtension(tools, state, packageExtension(), path.join(state.root, 'unpacked'));
    stateRoot = state.root;
  }
  const resultsFile = path.join(stateRoot, 'results.json');
  fs.rmSync(resultsFile, { force: true });
  let code: number | string = 0;
  try {
    await runTests({
      vscodeExecutablePath: desktop ?? launcher,
      extensionDevelopmentPath: developmentPath,
      extensionTestsPath: path.join(__dirname, 'index.js'),
      launchArgs: [path.join(repoRoot, 'bpf-samples')],
      // index.js writes the counts there; the tests read the extension's log under the user-data dir
      // (the launcher points this at code-server's own).
      extensionTestsEnv: {
        EBPF_STUDIO_INTEGRATION_RESULTS: resultsFile,
        EBPF_STUDIO_INTEGRATION_USER_DATA: path.join(stateRoot, 'user-data'),
      },
    });
  } catch (error) {
    if (!(error instanceof TestRunFailedError)) throw error;
    code = error.code ?? error.signal ?? 'failed';
  }
  if (!fs.existsSync(resultsFile)) {
    // The suite never reached its end: count the whole tier as one failure and say where to look.
    console.error(`integration: VS Code exited (${code}) without results; logs in ${artifacts}`);
    return { passed: 0, failed: 1, skipped: 0 };
  }
  const result = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as IntegrationResult;
  if (result.failed > 0 || code !== 0) console.error(`integration: exit code ${code}; logs in ${artifacts}`);
  return code === 0 || result.failed > 0 ? result : { ...result, failed: result.failed + 1 };
}

export interface LaunchOptions {
  developmentPath: string;
  testsPath: string;
  workspace: string;
}

/**
 * What code-server-launcher.js runs: the test run in code-server and chromium; resolves to its exit code.
 * `name` keeps another caller's state and logs apart from the integration tier's (bench/activation.bench.ts).
 */
export async function runInCodeServer(
  launch: LaunchOptions,
  timeoutMs = 300_000,
  name = 'integration',
): Promise<number> {
  const tools = ensureTools({ chromium: true });
  const logs = path.join(artifactsRoot, name);
  fs.mkdirSync(logs, { recursive: true });
  const state = freshState(path.join(tools.cache, 'e2e', name));
  const logPath = path.join(logs, 'code-server.log');
  const server = await CodeServer.start(tools, {
    state,
    // The server's extensions dir stays empty, so no second copy competes with the development extension.
    extensionsDir: path.join(state.root, 'extensions'),
    workspace: launch.workspace,
    port: await freePort(),
    smokeTestDriver: true,
    log: logPath,
    // The extension host inherits code-server's environment (and so runTests' extensionTestsEnv).
    env: { EBPF_STUDIO_INTEGRATION_USER_DATA: state.userData },
  });
  const browser = await launchBrowser(tools, state);
  const hostLog = fs.createWriteStream(path.join(logs, 'extension-host.log'));
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    const authority = new URL(server.url).host;
    const remote = (p: string) => `vscode-remote://${authority}${p}`;
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', remote(launch.developmentPath)],
      ['extensionTestsPath', remote(launch.testsPath)],
      ['skipWelcome', 'true'],
    ]);
    let exit: (code: number | string) => void = () => undefined;
    const exited = new Promise<number | string>((resolve) => (exit = resolve));
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
      const line = util.format(...args);
      hostLog.write(`[${type}] ${line}\n`);
      // Only the spec reporter's lines (index.js prefixes them); the rest is the workbench's own chatter.
      if (line.startsWith('[mocha] ')) console.log(line.slice('[mocha] '.length));
    });
    await page.exposeFunction('codeAutomationExit', (code: number) => exit(code));
    const timer = setTimeout(() => exit('timeout'), timeoutMs);
    await page.goto(server.pageUrl(launch.workspace, { payload }));
    const code = await exited;
    clearTimeout(timer);
    await page.screenshot({ path: path.join(logs, 'workbench.png') }).catch(() => undefined);
    if (code !== 0)
      console.error(`code-server log: ${logPath}; extension host console: ${path.join(logs, 'extension-host.log')}`);
    return typeof code === 'number' ? code : 1;
  } finally {
    hostLog.end();
    await browser.close().catch(() => undefined);
    await server.stop();
  }
}
