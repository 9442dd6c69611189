// Runs the integration tier in code-server's real extension host: code-server starts with the smoke-test
// driver, and chromium opens the workbench with a `payload` naming the installed .vsix (unpacked) as the
// development extension and test/integration/index.js as its tests. The host reports the exit code
// through window.codeAutomationExit and its console through window.codeAutomationLog.
// (code-server rejects --extensionDevelopmentPath on its command line; the payload is the way in.)
import * as fs from 'fs';
import * as path from 'path';
import * as util from 'util';
import { CodeServer, ensureTools, freePort, freshState, installExtension, packageExtension, repoRoot } from '../e2e/support/code-server';
import { artifactsRoot, launchBrowser } from '../e2e/support/workbench';

export interface IntegrationResult {
  passed: number;
  failed: number;
  skipped: number;
}

export async function runIntegration(timeoutMs = 300_000): Promise<IntegrationResult> {
  const tools = ensureTools({ chromium: true });
  const vsix = packageExtension();
  const artifacts = path.join(artifactsRoot, 'integration');
  fs.rmSync(artifacts, { recursive: true, force: true });
  fs.mkdirSync(artifacts, { recursive: true });
  const state = freshState(path.join(tools.cache, 'e2e', 'integration'));
  // Unpacked once into a folder of its own, then loaded as the development extension from there; the
  // server's extensions dir stays empty, so no second copy competes with it.
  const developmentPath = installExtension(tools, state, vsix, path.join(state.root, 'unpacked'));
  const resultsFile = path.join(state.root, 'results.json');
  const workspace = path.join(repoRoot, 'bpf-samples');
  const logPath = path.join(artifacts, 'code-server.log');
  const server = await CodeServer.start(tools, {
    state,
    extensionsDir: path.join(state.root, 'extensions'),
    workspace,
    port: await freePort(),
    smokeTestDriver: true,
    log: logPath,
    // The extension host inherits code-server's environment; index.js writes the counts there.
    // The tests read the extension's log file under the user-data dir.
    env: { EBPF_STUDIO_INTEGRATION_RESULTS: resultsFile, EBPF_STUDIO_INTEGRATION_USER_DATA: state.userData },
  });
  const browser = await launchBrowser(tools, state);
  const hostLog = fs.createWriteStream(path.join(artifacts, 'extension-host.log'));
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    const authority = new URL(server.url).host;
    const remote = (p: string) => `vscode-remote://${authority}${p}`;
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', remote(developmentPath)],
      ['extensionTestsPath', remote(path.join(__dirname, 'index.js'))],
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
    await page.goto(server.pageUrl(workspace, { payload }));
    const code = await exited;
    clearTimeout(timer);
    await page.screenshot({ path: path.join(artifacts, 'workbench.png') }).catch(() => undefined);
    const where = `code-server log: ${logPath}; extension host console: ${path.join(artifacts, 'extension-host.log')}`;
    if (!fs.existsSync(resultsFile)) {
      // The suite never reached its end: count the whole tier as one failure and say where to look.
      console.error(`integration: the extension host exited (${code}) without results; ${where}`);
      return { passed: 0, failed: 1, skipped: 0 };
    }
    const result = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as IntegrationResult;
    if (result.failed > 0 || code !== 0) console.error(`integration: exit code ${code}; ${where}`);
    return code === 0 || result.failed > 0 ? result : { ...result, failed: result.failed + 1 };
  } finally {
    hostLog.end();
    await browser.close().catch(() => undefined);
    await server.stop();
  }
}
