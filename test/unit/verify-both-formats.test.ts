import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { RequestType } from 'vscode-jsonrpc';
import { Methods } from '../../extension/protocol/methods';
import { HelperError } from '../../extension/protocol/errors';
import { parseRejection } from '../../extension/formats/verifier-rejection';
import { verifyObject, type HelperRequester } from '../../extension/toolchain/verify';

// Diagnostics come from verifyObject, which reads the rejection's log; a Linux 7.3 log (the classic log plus
// the structured report) must give the same diagnostic as its current-format twin captured on this kernel.
const dir = path.join(__dirname, 'fixtures', 'verifier-logs');
const read = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');

/** A helper that describes one program and rejects it with `log`, its message read as the helper's registry does. */
function rejectingHelper(program: string, log: string): HelperRequester {
  return {
    request<P, R>(type: RequestType<P, R, void>): Promise<R> {
      if (type.method === Methods.describe.method)
        return Promise.resolve({
          programs: [
            {
              name: program,
              section: 'tp/x',
              type: 'tracepoint',
              expectedAttachType: '',
              insnCount: 1,
              autoload: true,
            },
          ],
          maps: [],
        } as unknown as R);
      const message = parseRejection(log)!.message;
      return Promise.reject(new HelperError(message, { kind: 'VerifierRejected', program, message, log, errno: 13 }));
    },
  };
}

describe('verify: diagnostics from both verifier log formats', () => {
  const twins: [string, string, string][] = [
    ['null_deref_subprog', 'null_deref_subprog.level1.log', 'report-7x/null_deref_subprog.level1.log'],
    ['kernel_ptr_deref', 'kernel_ptr_deref.level1.log', 'report-7x/kernel_ptr_deref.level1.log'],
  ];
  for (const [program, classic, redesigned] of twins) {
    it(`${program}: the 7.3 report gives the current format's diagnostic`, async () => {
      const source = path.join(dir, 'src', `${program}.bpf.c`);
      const a = await verifyObject(rejectingHelper(program, read(classic)), '/tmp/x.o', source);
      const b = await verifyObject(rejectingHelper(program, read(redesigned)), '/tmp/x.o', source);
      assert.equal(a.diagnostics.length, 1);
      assert.equal(a.diagnostics[0].file, source);
      assert.match(a.diagnostics[0].message, /^verifier rejected \w+: R\d invalid mem access/);
      assert.deepEqual(b.diagnostics, a.diagnostics);
      assert.equal(
        b.programs[0].status === 'rejected' && b.programs[0].instruction,
        a.programs[0].status === 'rejected' && a.programs[0].instruction,
      );
    });
  }
});
