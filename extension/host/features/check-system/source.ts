// Gathers what "eBPF: Check System" reports: reads the machine (BTF, lockdown, clang, bpftool, libbpf
// headers) from the extension host and asks the helper for its handshake and its probe table. No vscode
// import, so the kernel test checks the very facts the page shows.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  bundledLibbpfHeaders,
  findBpftool,
  findClang,
  KERNEL_BTF,
  multiarchIncludeDirs,
} from '../../../toolchain/toolchain';
import type { HelperClient } from '../../client/client';
import { Methods } from '../../../protocol/methods';
import type { SystemFacts, ToolFact } from './model';

function tool(name: string, find: () => string): ToolFact {
  try {
    return { name, path: find() };
  } catch (error) {
    return { name, error: (error as Error).message };
  }
}

function readOptional(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export async function gatherSystemFacts(
  helper: { client: HelperClient } | { reason: string },
  options: { clangPath?: string; includeDirs?: string[] } = {},
): Promise<SystemFacts> {
  const headerDirs = ['/usr/include', '/usr/local/include', ...multiarchIncludeDirs(), ...(options.includeDirs ?? [])];
  const systemHeaders = headerDirs
    .map((dir) => path.join(dir, 'bpf', 'bpf_helpers.h'))
    .find((file) => fs.existsSync(file));
  // Builds use the headers shipped with the extension ahead of the system's (toolchain/compile.ts).
  const bundled = bundledLibbpfHeaders();
  const headers = bundled
    ? `${path.join(bundled.dir, 'bpf', 'bpf_helpers.h')} (libbpf ${bundled.version}, shipped with eBPF Studio)`
    : systemHeaders;
  const facts: SystemFacts = {
    helper:
      'client' in helper
        ? { running: true, info: helper.client.info, via: helper.client.startedVia }
        : { running: false, reason: helper.reason },
    kernelRelease: os.release(),
    lockdownText: readOptional('/sys/kernel/security/lockdown'),
    btfPresent: fs.existsSync(KERNEL_BTF),
    tools: [tool('clang', () => findClang(options.clangPath || undefined)), tool('bpftool', () => findBpftool())],
    libbpfHeaders: headers,
  };
  if ('client' in helper) facts.capabilities = await helper.client.request(Methods.capabilities);
  return facts;
}
