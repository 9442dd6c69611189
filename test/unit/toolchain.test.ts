import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { findClang, MissingToolError, requireKernelBtf, targetArch } from '../../extension/toolchain/toolchain';

function fakeTools(names: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ebpf-studio-tools-'));
  for (const name of names) fs.writeFileSync(path.join(dir, name), '#!/bin/sh\n', { mode: 0o755 });
  return dir;
}

describe('toolchain', () => {
  it('prefers the newest clang-NN on PATH', () => {
    const dir = fakeTools(['clang', 'clang-14', 'clang-17', 'clang-9']);
    assert.equal(findClang(undefined, dir), path.join(dir, 'clang-17'));
  });

  it('says what to install when clang is missing', () => {
    const empty = fakeTools([]);
    assert.throws(
      () => findClang(undefined, empty),
      (error: Error) => {
        assert.ok(error instanceof MissingToolError);
        assert.equal(error.tool, 'clang');
        assert.match(error.message, /clang was not found.*apt-get install clang llvm.*ebpfStudio\.clangPath/);
        return true;
      },
    );
  });

  it('refuses a configured clang that is not an executable', () => {
    assert.throws(
      () => findClang('/nonexistent/clang-99'),
      /"\/nonexistent\/clang-99" \(ebpfStudio\.clangPath\) is not an executable file/,
    );
  });

  it('explains a kernel without BTF', () => {
    assert.throws(
      () => requireKernelBtf('/nonexistent/btf/vmlinux'),
      /without CONFIG_DEBUG_INFO_BTF, so vmlinux.h cannot be generated/,
    );
  });

  it('names the architecture as bpf_tracing.h expects', () => {
    assert.equal(targetArch('x64'), 'x86');
    assert.equal(targetArch('arm64'), 'arm64');
  });
});
