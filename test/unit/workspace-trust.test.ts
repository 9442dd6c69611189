// Workspace trust (issue 9): in Restricted Mode no compiler runs and the root helper does not start, the
// views and the status bar say why, and no setting a repository can set chooses what runs.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { RESTRICTED_REASON, restrictedState, statusView, trustPolicy } from '../../extension/host/helper-state';
import { helperDownNodes } from '../../extension/host/ui/node';

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
const settings: Record<string, { scope?: string }> = manifest.contributes.configuration.properties;

describe('workspace trust', () => {
  it('an untrusted workspace starts no helper and runs no clang; a trusted one does both', () => {
    assert.deepEqual(trustPolicy(false), { startHelper: false, runClang: false, reason: RESTRICTED_REASON });
    assert.deepEqual(trustPolicy(true), { startHelper: true, runClang: true });
  });

  it('the status bar and the views say Restricted Mode and lead to the trust editor, not to a restart', () => {
    const state = restrictedState();
    const view = statusView(state);
    assert.equal(view.text, '$(shield) eBPF: Restricted Mode');
    assert.equal(view.command, 'workbench.trust.manage');
    assert.equal(view.error, false);
    assert.match(view.tooltip, /not trusted/);
    assert.ok(state.status === 'stopped');
    const [node] = helperDownNodes(state);
    assert.match(node.label as string, /^Restricted Mode/);
    assert.equal(node.command?.command, 'workbench.trust.manage');
    // An ordinary stop still offers the restart.
    assert.equal(
      helperDownNodes({ status: 'stopped', reason: 'sudo refused' })[0].command?.command,
      'ebpf.restartHelper',
    );
  });

  it('the manifest declares limited support and restricts the build settings a repository may set', () => {
    const trust = manifest.capabilities?.untrustedWorkspaces;
    assert.equal(trust?.supported, 'limited');
    assert.match(trust.description, /no compiler/);
    for (const key of trust.restrictedConfigurations) assert.ok(settings[key], `${key} is a setting`);
  });

  it('what chooses an executable is a machine setting: a workspace cannot point it anywhere', () => {
    assert.equal(settings['ebpfStudio.clangPath'].scope, 'machine');
    assert.equal(settings['ebpfStudio.helper.elevation'].scope, 'machine');
  });
});
